// The sitempi command line: run, monitor, report, testbed.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseNumber, parseSize, takeOptions, UsageError } from './args.js';
import { PLACEMENT_OPTS, PLACEMENT_USAGE, wantsPlacement } from '../placement/cli.js';
import { makeReportDir, parseReportMode, writeNewReport, writeReportFile } from './report-file.js';
import { tokenFromOptions } from './secrets.js';
import type { ClassifyOptions } from '../monitor/classify.js';
import type { JobProfile } from '../monitor/job.js';
import type { ReportOptions } from '../report/report.js';
import type { PlacementService as PlacementServiceT } from '../placement/service.js';

export const USAGE = `usage: sitempi <command> [options]

  sitempi run [run options] [mpirun options] -- ./app [args...]
      Runs an MPI program under the shim (mpirun -x LD_PRELOAD=libsitempi.so ...) with an embedded
      monitor, forwards the program's output unchanged, prints the report after it and exits with
      the program's exit code.
      run options (before any mpirun option):
        --json             JSON report (one line, the last line of stdout) instead of text
        --report FILE      write the report to FILE instead of stdout (mode 0600; --report-mode)
        --report-mode M    permissions of report files, octal (default 600)
        --token-file FILE  token the ranks must present, from FILE (default: $SITEMPI_TOKEN, else a
                           random one); it reaches the ranks through the environment, never argv
        --token T          the same on the command line, visible to every user (warns)
        --listen ADDR      monitor address: unix:/path (default: a private Unix socket) or
                           tcp://host:port (ranks on other hosts; see --monitor-host)
        --monitor-host H   host name the ranks use to reach a tcp monitor (default: this host's name)
        --job ID           job id (default: random)
        --lib PATH         the shim (default: build/Release/libsitempi.so of this package)
        --mpirun PATH      mpirun to use (default: mpirun, or $SITEMPI_MPIRUN)
        --wait MS          after mpirun exits, wait up to MS for the ranks' last data (default 5000)
        --no-progress      no progress line (shown on stderr only when it is a terminal)
        placement options (below); with --testbed, mpirun runs on the testbed that is up
      Running as root sets OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM)=1. With more ranks than cores pass
      --oversubscribe --mca mpi_yield_when_idle 1. SITEMPI_* variables of the environment are
      passed on to the ranks.

  sitempi monitor [--listen ADDR]... [--token-file FILE] [--json] [--linger MS] [--hello-timeout MS]
                  [--max-ranks N] [--report-dir DIR] [--report-mode M] [--join-window MS]
                  [--require-job-key] [placement options]
      Runs the monitor service (default --listen tcp://127.0.0.1:7711; the token from --token-file
      or $SITEMPI_TOKEN; --token T works too but shows it to every user, with a warning) and prints
      a report for each job that ends (text, or one JSON line per job with --json; with --report-dir
      also writes DIR/<job>.json, mode 0600 unless --report-mode). Connections that send no Hello
      within --hello-timeout (default 30000 ms) are closed; jobs of more than --max-ranks ranks
      (default 8192: the matrices are dense, 1 GiB per placement epoch at that size) are refused.
      A job whose ranks have not all connected waits --join-window (default 60000 ms) after its
      last connection closed for the others; --require-job-key refuses ranks without a job key
      (SITEMPI_JOB_KEY, set by sitempi run). A second report of one job id in --report-dir gets a
      new name (<job>.1.json, ...): none is overwritten. Stops on SIGINT/SIGTERM.

  sitempi report [--json] [--max-file-size SIZE] FILES|DIRS...
      Report from the per-rank files (sitempi-<job>-<rank>.smpi) the shim writes when no monitor is
      configured (SITEMPI_OUTPUT_DIR). Directories are searched for *.smpi files. Only regular
      files are read, at most SIZE of each (default 16GiB); frames that do not decode are skipped
      and counted in the report.

  sitempi testbed <command> ...    the multi-site testbed (sitempi testbed --help)

report options (run, monitor, report):
  --top N                rows in the top-N tables (default 10)
  --threshold RATE       crossing traffic that makes a job network-intensive (default 10MB/s)
  --mpi-fraction F       fraction of time in MPI that makes lower rates count (default 0.5)
  --no-histograms        leave the per-pair message-size histograms out of the JSON

JSON schema: docs/report-json.md.

${PLACEMENT_USAGE}`;

/** Variables that reach the ranks through mpirun's environment, never its command line. */
const SECRET_VARS = new Set(['SITEMPI_TOKEN', 'SITEMPI_JOB_KEY']);

const REPORT_OPTS = {
  '--top': 'value',
  '--threshold': 'value',
  '--mpi-fraction': 'value',
  '--no-histograms': 'flag',
} as const;

function reportOptions(v: Record<string, string | boolean | string[]>): ReportOptions {
  const c: ClassifyOptions = {};
  if (typeof v.threshold === 'string') c.thresholdBytesPerSecond = parseSize(v.threshold);
  if (typeof v['mpi-fraction'] === 'string') c.mpiFractionThreshold = parseNumber(v['mpi-fraction'], '--mpi-fraction');
  return {
    classify: c,
    top: typeof v.top === 'string' ? parseNumber(v.top, '--top') : undefined,
    histograms: v['no-histograms'] ? false : undefined,
  };
}

async function render(
  jobs: readonly JobProfile[],
  json: boolean,
  ro: ReportOptions,
  svc?: PlacementServiceT | null,
): Promise<string> {
  const { formatJson, formatText } = await import('../report/report.js');
  if (!svc) return json ? formatJson(jobs, ro) + '\n' : formatText(jobs, ro);
  const { addPlacementToJson, formatPlacementText } = await import('../placement/report.js');
  if (json) return addPlacementToJson(formatJson(jobs, ro), svc) + '\n';
  return (
    formatText(jobs, ro) +
    jobs
      .map((j) => {
        const h = svc.history(j);
        return h ? formatPlacementText(h) : '';
      })
      .join('')
  );
}

/** The placement service for run/monitor when placement options were given (null otherwise). */
async function placementService(
  monitor: import('../monitor/monitor.js').Monitor,
  values: Record<string, string | boolean | string[]>,
  ro: ReportOptions,
  log: (m: string) => void,
): Promise<PlacementServiceT | null> {
  if (!wantsPlacement(values)) {
    if (typeof values.relocate === 'string' && values.relocate !== 'off')
      throw new UsageError('--relocate auto needs an executor (--testbed or --executor-command)');
    return null;
  }
  const { placementFromOptions, PlacementUsageError } = await import('../placement/cli.js');
  try {
    return await placementFromOptions(monitor, values, ro.classify ?? {}, log);
  } catch (e) {
    if (e instanceof PlacementUsageError) throw new UsageError(e.message);
    throw e;
  }
}

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

// --- report ----------------------------------------------------------------------------------

async function reportCommand(argv: string[]): Promise<number> {
  const spec = {
    '--json': 'flag',
    '--max-file-size': 'value',
    '-h': 'flag',
    '--help': 'flag',
    ...REPORT_OPTS,
  } as const;
  const files: string[] = [];
  const values: Record<string, string | boolean | string[]> = {};
  let rest = argv;
  while (rest.length) {
    const r = takeOptions(rest, spec, { stopAtUnknown: false });
    Object.assign(values, r.values);
    rest = r.rest;
    if (rest[0] === '--') {
      files.push(...rest.slice(1));
      break;
    }
    if (rest.length) {
      files.push(rest[0]);
      rest = rest.slice(1);
    }
  }
  if (values.help || values.h) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (files.length === 0) throw new UsageError('report needs per-rank files or directories');
  const { loadRankFiles, newLoadStats } = await import('../monitor/files.js');
  const stats = newLoadStats();
  const maxFileBytes = typeof values['max-file-size'] === 'string' ? parseSize(values['max-file-size']) : undefined;
  const jobs = await loadRankFiles(files, {
    stats,
    maxFileBytes,
    onWarning: (m) => process.stderr.write(`sitempi: warning: ${m}\n`),
  });
  process.stdout.write(
    await render(jobs, values.json === true, { ...reportOptions(values), badFrames: stats.badFrames }),
  );
  return jobs.length ? 0 : 1;
}

// --- monitor ---------------------------------------------------------------------------------

async function monitorCommand(argv: string[]): Promise<number> {
  const spec = {
    '--listen': 'list',
    '--token': 'value',
    '--token-file': 'value',
    '--report-mode': 'value',
    '--json': 'flag',
    '--linger': 'value',
    '--hello-timeout': 'value',
    '--max-ranks': 'value',
    '--report-dir': 'value',
    '--quiet': 'flag',
    '--join-window': 'value',
    '--require-job-key': 'flag',
    '-h': 'flag',
    '--help': 'flag',
    ...REPORT_OPTS,
    ...PLACEMENT_OPTS,
  } as const;
  const { values, rest } = takeOptions(argv, spec, { stopAtUnknown: false });
  if (values.help || values.h) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
  const { Monitor } = await import('../monitor/monitor.js');
  const ro = reportOptions(values);
  const json = values.json === true;
  const quiet = values.quiet === true;
  const reportDir = typeof values['report-dir'] === 'string' ? values['report-dir'] : undefined;
  const reportMode = parseReportMode(values['report-mode']);
  if (reportDir) makeReportDir(reportDir);
  const token = tokenFromOptions(values, (m) => process.stderr.write(`sitempi monitor: warning: ${m}\n`));
  const monitor = new Monitor({
    token: token || undefined,
    lingerMs: typeof values.linger === 'string' ? parseNumber(values.linger, '--linger') : undefined,
    helloTimeoutMs:
      typeof values['hello-timeout'] === 'string' ? parseNumber(values['hello-timeout'], '--hello-timeout') : undefined,
    maxRanks: typeof values['max-ranks'] === 'string' ? parseNumber(values['max-ranks'], '--max-ranks') : undefined,
    joinWindowMs:
      typeof values['join-window'] === 'string' ? parseNumber(values['join-window'], '--join-window') : undefined,
    requireJobKey: values['require-job-key'] === true,
  });
  const log = (m: string) => {
    if (!quiet) process.stderr.write(`sitempi monitor: ${m}\n`);
  };
  const svc = await placementService(monitor, values, ro, log);
  monitor.on('error', (e) => log(`error: ${e.message}`));
  monitor.on('connectionError', (ev) =>
    log(`rejected ${ev.remote}${ev.job ? ` (job ${ev.job} rank ${ev.rank})` : ''}: ${ev.error.message}`),
  );
  monitor.on('jobStart', (job) => log(`job ${job.id} started (${job.size} ranks)`));
  monitor.on('jobEnd', (job) => {
    void (async () => {
      log(`job ${job.id} ended (${job.endReason})`);
      await job.prepare(); // the collective expansion in slices: other clients go on meanwhile
      process.stdout.write(await render([job], json, ro, svc));
      if (reportDir) {
        writeNewReport(reportDir, job.id, await render([job], true, ro, svc), reportMode);
      }
    })().catch((e: Error) => log(`report failed: ${e.message}`));
  });
  const listen = (values.listen as string[] | undefined) ?? ['tcp://127.0.0.1:7711'];
  const addrs = await monitor.listen(listen);
  log(`listening on ${addrs.join(', ')}${token ? '' : ' (no token: any client accepted)'}`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await monitor.close();
  await svc?.close();
  await new Promise((r) => setImmediate(r));
  return 0;
}

// --- run -------------------------------------------------------------------------------------

async function runCommand(argv: string[]): Promise<number> {
  const spec = {
    '--json': 'flag',
    '--report': 'value',
    '--report-mode': 'value',
    '--token': 'value',
    '--token-file': 'value',
    '--listen': 'value',
    '--monitor-host': 'value',
    '--job': 'value',
    '--lib': 'value',
    '--mpirun': 'value',
    '--wait': 'value',
    '--no-progress': 'flag',
    '-h': 'flag',
    '--help': 'flag',
    ...REPORT_OPTS,
    ...PLACEMENT_OPTS,
  } as const;
  const { values, rest } = takeOptions(argv, spec, { stopAtUnknown: true });
  if (values.help || values.h) {
    process.stdout.write(USAGE);
    return 0;
  }
  // rest: [mpirun options...] [--] app args...
  const dd = rest.indexOf('--');
  const mpirunOpts = dd >= 0 ? rest.slice(0, dd) : [];
  const app = dd >= 0 ? rest.slice(dd + 1) : rest;
  if (app.length === 0) throw new UsageError('run needs a program: sitempi run [options] -- ./app [args]');

  const { shimLibraryPath } = await import('../native/paths.js');
  const lib = path.resolve(typeof values.lib === 'string' ? values.lib : (process.env.SITEMPI_LIB ?? shimLibraryPath));
  if (!fs.existsSync(lib))
    throw new Error(`the shim ${lib} does not exist (build it with \`npm run build\`, or pass --lib)`);
  const mpirun = typeof values.mpirun === 'string' ? values.mpirun : (process.env.SITEMPI_MPIRUN ?? 'mpirun');
  const token =
    tokenFromOptions(values, (m) => process.stderr.write(`sitempi: warning: ${m}\n`)) ??
    crypto.randomBytes(16).toString('hex');
  const reportMode = parseReportMode(values['report-mode']);
  const jobId =
    typeof values.job === 'string'
      ? values.job
      : `run-${os.hostname()}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
  const waitMs = typeof values.wait === 'string' ? parseNumber(values.wait, '--wait') : 5000;
  const ro = reportOptions(values);
  const json = values.json === true;
  const reportFile = typeof values.report === 'string' ? values.report : undefined;

  const { Monitor } = await import('../monitor/monitor.js');
  // Jobs end when mpirun is done (below), not on a linger timeout while it runs.
  const monitor = new Monitor({ token, lingerMs: 24 * 3600 * 1000, updateIntervalMs: 1000 });
  monitor.on('error', (e) => process.stderr.write(`sitempi: monitor error: ${e.message}\n`));
  monitor.on('connectionError', (ev) =>
    process.stderr.write(`sitempi: rejected a connection from ${ev.remote}: ${ev.error.message}\n`),
  );
  const svc = await placementService(monitor, values, ro, (m) => process.stderr.write(`sitempi: ${m}\n`)).catch(
    async (e: Error) => {
      await monitor.close();
      throw e;
    },
  );
  let testbedArgs: string[] = [];
  if (values.testbed === true || typeof values['testbed-state'] === 'string') {
    const { mpirunArgs } = await import('../testbed/testbed.js');
    testbedArgs = await mpirunArgs({
      stateDir: typeof values['testbed-state'] === 'string' ? values['testbed-state'] : undefined,
    });
  }
  let tmpDir: string | undefined;
  let listen = typeof values.listen === 'string' ? values.listen : undefined;
  if (!listen) {
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sitempi-'));
    listen = `unix:${path.join(tmpDir, 'monitor.sock')}`;
  }
  const [addr] = await monitor.listen(listen);
  let monitorUrl = addr;
  if (addr.startsWith('tcp://')) {
    const m = /^tcp:\/\/(.*):(\d+)$/.exec(addr)!;
    const host =
      typeof values['monitor-host'] === 'string'
        ? values['monitor-host']
        : m[1] === '0.0.0.0' || m[1] === '[::]'
          ? os.hostname()
          : m[1];
    monitorUrl = `tcp://${host}:${m[2]}`;
  }

  const env: NodeJS.ProcessEnv = { ...process.env };
  if (process.getuid?.() === 0) {
    env.OMPI_ALLOW_RUN_AS_ROOT = '1';
    env.OMPI_ALLOW_RUN_AS_ROOT_CONFIRM = '1';
  }
  const ours: Record<string, string> = {
    LD_PRELOAD: lib,
    SITEMPI_MONITOR: monitorUrl,
    SITEMPI_TOKEN: token,
    SITEMPI_JOB: jobId,
  };
  // The job's key binds its ranks to it (only they know it); by environment, not on mpirun's command line.
  const jobKey = crypto.randomBytes(16).toString('hex');
  monitor.registerJob(jobId, { key: jobKey });
  ours.SITEMPI_JOB_KEY = jobKey;
  // A static map without an executor is where the ranks are: the shim can use it from MPI_Init on.
  if (svc && !svc.executor && typeof values.sites === 'string') ours.SITEMPI_SITES = values.sites;
  const xs: string[] = [];
  // Secrets go by environment (mpirun -x NAME forwards it): argv is readable by every user.
  for (const [k, v] of Object.entries(ours)) {
    if (SECRET_VARS.has(k)) {
      env[k] = v;
      xs.push('-x', k);
    } else xs.push('-x', `${k}=${v}`);
  }
  for (const k of Object.keys(process.env)) {
    if (
      k.startsWith('SITEMPI_') &&
      !(k in ours) &&
      k !== 'SITEMPI_LIB' &&
      k !== 'SITEMPI_MPIRUN' &&
      k !== 'SITEMPI_JOB_KEY'
    )
      xs.push('-x', k);
  }
  const args = [...testbedArgs, ...xs, ...mpirunOpts, ...app];
  if (process.env.SITEMPI_CLI_DEBUG) process.stderr.write(`sitempi: ${mpirun} ${args.join(' ')}\n`);

  const progressOn = values['no-progress'] !== true && process.stderr.isTTY === true;
  const child = spawn(mpirun, args, {
    env,
    stdio: ['inherit', progressOn ? 'pipe' : 'inherit', progressOn ? 'pipe' : 'inherit'],
  });
  const progress = progressOn ? new Progress(monitor, jobId) : null;
  if (progress) {
    child.stdout!.on('data', (d: Buffer) => {
      progress.clear();
      process.stdout.write(d);
    });
    child.stderr!.on('data', (d: Buffer) => {
      progress.clear();
      process.stderr.write(d);
    });
  }
  const forward = (sig: NodeJS.Signals) => () => {
    try {
      child.kill(sig);
    } catch {
      /* gone */
    }
  };
  const handlers: Array<[NodeJS.Signals, () => void]> = (['SIGINT', 'SIGTERM', 'SIGHUP'] as NodeJS.Signals[]).map(
    (s) => [s, forward(s)],
  );
  for (const [s, h] of handlers) process.on(s, h);
  let code: number;
  try {
    code = await new Promise<number>((resolve, reject) => {
      child.once('error', (e: NodeJS.ErrnoException) =>
        reject(e.code === 'ENOENT' ? new Error(`${mpirun} not found (install Open MPI, or pass --mpirun)`) : e),
      );
      child.once('close', (c, sig) => resolve(c ?? (sig ? 128 + (os.constants.signals[sig] ?? 0) : 1)));
    });
  } catch (e) {
    progress?.stop();
    await monitor.close();
    await svc?.close();
    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
    throw e;
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
  }
  // The ranks are gone: collect what is still in flight, then end the jobs.
  const deadline = Date.now() + waitMs;
  while (
    Date.now() < deadline &&
    (monitor.connectionCount > 0 || monitor.jobs().some((j) => j.ranksFinished < j.ranksSeen))
  ) {
    await new Promise((r) => setTimeout(r, 20));
  }
  progress?.stop();
  const jobs = await monitor.close();
  await svc?.close();
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
  const mine = jobs.filter((j) => j.id === jobId);
  if (mine.length === 0)
    process.stderr.write(
      'sitempi: no rank reported to the monitor (not an MPI program? SITEMPI_DISABLE set? the shim failed to load?)\n',
    );
  const text = await render(mine, json, ro, svc);
  if (reportFile && reportFile !== '-') writeReportFile(reportFile, text, reportMode);
  else process.stdout.write(text);
  return code;
}

/** The progress line on a terminal (stderr): ranks connected, records, records/s. */
class Progress {
  private shown = false;
  private readonly timer: NodeJS.Timeout;
  private readonly started = Date.now();
  constructor(
    private readonly monitor: import('../monitor/monitor.js').Monitor,
    private readonly jobId: string,
  ) {
    this.timer = setInterval(() => this.draw(), 1000);
    this.timer.unref();
  }
  private draw(): void {
    if (Date.now() - this.started < 2000) return; // long runs only
    const job = this.monitor.job(this.jobId);
    const s = job
      ? `[sitempi] ${job.ranksConnected}/${job.size} ranks connected, ${fmt(job.records)} records, ${fmt(job.rates().recordsPerSecond)} records/s, ${((Date.now() - this.started) / 1000).toFixed(0)}s`
      : `[sitempi] waiting for ranks, ${((Date.now() - this.started) / 1000).toFixed(0)}s`;
    process.stderr.write(`\r\x1b[K${s}`);
    this.shown = true;
  }
  clear(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
    this.shown = false;
  }
  stop(): void {
    clearInterval(this.timer);
    this.clear();
  }
}

function fmt(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0);
}
