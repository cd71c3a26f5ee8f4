// The sitempi command line: run, monitor, report, history, testbed.
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from './args.js';
import { historyCommand } from './history-command.js';
import { monitorCommand } from './monitor-command.js';
import { reportCommand } from './report-command.js';
import { runCommand } from './run-command.js';
import { USAGE } from './usage.js';

export { USAGE } from './usage.js';

/** Entry point; resolves with the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
        process.stderr.write(USAGE);
        return 2;
      case '-h':
      case '--help':
      case 'help':
        process.stdout.write(USAGE);
        return 0;
      case '--version':
      case 'version': {
        const { packageRoot } = await import('../native/paths.js');
        const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string };
        process.stdout.write(`sitempi ${pkg.version}\n`);
        return 0;
      }
      case 'run':
        return await runCommand(rest);
      case 'monitor':
        return await monitorCommand(rest);
      case 'report':
        return await reportCommand(rest);
      case 'history':
        return await historyCommand(rest);
      case 'manager':
      case 'agent':
      case 'submit':
      case 'jobs':
      case 'cancel':
      case 'nodes':
        return await (await import('./manager-command.js')).managerCli(cmd, rest);
      case 'testbed': {
        const mod = (await import('../testbed/cli.js')) as { testbedCli(argv: string[]): Promise<number> };
        return await mod.testbedCli(rest);
      }
      default:
        throw new UsageError(`unknown command ${cmd}`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`sitempi: ${e.message}\n(sitempi --help for usage)\n`);
      return 2;
    }
    process.stderr.write(`sitempi: ${(e as Error).message ?? String(e)}\n`);
    return 1;
  }
}
