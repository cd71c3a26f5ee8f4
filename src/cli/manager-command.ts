// sitempi manager / agent: the job manager service and the per-node agent that reports to it.
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { parseNumber, takeOptions, UsageError } from './args.js';
import { tokenFromOptions } from './secrets.js';
import { DEFAULT_MANAGER, MANAGER_USAGE } from './manager-usage.js';
import { clientCommand } from './jobs-command.js';

/** Dispatch of the manager's commands (manager, agent, submit, jobs, cancel, nodes). */
export async function managerCli(cmd: string, argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(MANAGER_USAGE);
    return 0;
  }
  if (cmd === 'manager') return await managerCommand(argv);
  if (cmd === 'agent') return await agentCommand(argv);
  return await clientCommand(cmd, argv);
}

async function managerCommand(argv: string[]): Promise<number> {
  const { values, rest } = takeOptions(
    argv,
    {
      '--cluster': 'value',
      '--testbed': 'flag',
      '--testbed-state': 'value',
      '--sites': 'value',
      '--rtt': 'value',
      '--bandwidth': 'value',
      '--link': 'list',
      '--host': 'value',
      '--listen': 'list',
      '--dir': 'value',
      '--token': 'value',
      '--token-file': 'value',
      '--mpirun': 'value',
      '--lib': 'value',
      '--grace': 'value',
      '--max-bypass': 'value',
      '--max-wait': 'value',
      '--stale-after': 'value',
      '--agents': 'value',
      '--slurm': 'flag',
      '--slurm-conf': 'value',
      '--slurm-partition': 'value',
      '--slurm-poll': 'value',
      '--slurm-testbed': 'flag',
      '--history': 'value',
      '--relocate': 'value',
      '--executor-command': 'value',
      '--quiet': 'flag',
    },
    { stopAtUnknown: false },
  );
  if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const num = (k: string) => (str(k) !== undefined ? parseNumber(str(k), `--${k}`) : undefined);
  const sources = [str('cluster'), values.testbed || str('testbed-state'), str('sites')].filter(Boolean).length;
  if (sources !== 1) throw new UsageError('manager needs one of --cluster FILE, --testbed, --sites A=4x2,B=2x2');
  const { loadClusterFile, clusterFromArgs, clusterFromTestbed } = await import('../manager/cluster-source.js');
  const { ClusterError } = await import('../manager/cluster.js');
  let testbed = null;
  let cluster;
  try {
    if (str('cluster')) cluster = loadClusterFile(str('cluster')!);
    else if (str('sites'))
      cluster = clusterFromArgs({
        sites: str('sites')!,
        rtt: str('rtt'),
        bandwidth: str('bandwidth'),
        links: values.link as string[] | undefined,
        host: str('host'),
      });
    else {
      const { requireState } = await import('../testbed/state.js');
      testbed = await requireState({ stateDir: str('testbed-state') });
      cluster = clusterFromTestbed(testbed);
    }
  } catch (e) {
    if (e instanceof ClusterError) throw new UsageError(e.message);
    throw e;
  }
  const { shimToPreload } = await import('../native/paths.js');
  const shim = shimToPreload(str('lib'));
  const agentsMs = num('agents');
  if (agentsMs !== undefined && (!testbed || agentsMs < 100 || agentsMs > 600_000))
    throw new UsageError(
      '--agents MS (100..600000) starts agents on the testbed; elsewhere run `sitempi agent` per node',
    );
  const quiet = values.quiet === true;
  const log = (m: string) => {
    if (!quiet) process.stderr.write(`sitempi manager: ${m}\n`);
  };
  const token = tokenFromOptions(values, (m) => process.stderr.write(`sitempi manager: warning: ${m}\n`));
  const dir = path.resolve(str('dir') ?? 'sitempi-manager');
  const { Manager } = await import('../manager/manager.js');
  const slurm = await slurmOptions(values, testbed, str('testbed-state'), log);
  // better-sqlite3 (a native module) is loaded only when a history is asked for
  const history =
    typeof values.history === 'string'
      ? (await import('../history/recorder.js')).historyFromOptions(values, undefined, log)
      : null;
  const mgr = new Manager({
    cluster,
    dir,
    token,
    testbed,
    shim,
    mpirun: str('mpirun') ?? process.env.SITEMPI_MPIRUN,
    graceMs: num('grace'),
    rules: { maxBypass: num('max-bypass'), maxWaitMs: num('max-wait') },
    staleAfter: num('stale-after'),
    relocate: onOff(str('relocate'), '--relocate'),
    executor: str('executor-command')
      ? new (await import('../placement/command-executor.js')).CommandExecutor({ command: str('executor-command')! })
      : undefined,
    log,
    slurm: slurm?.options,
    history: history ?? undefined,
  });
  // The Unix socket in DIR is for this host's agents (node namespaces share the file system).
  const local = `unix:${path.join(dir, 'manager.sock')}`;
  let addrs: string[];
  try {
    addrs = await mgr.start([...((values.listen as string[] | undefined) ?? [DEFAULT_MANAGER]), local]);
  } catch (e) {
    await slurm?.stop();
    throw e;
  }
  log(
    `${cluster.nodes.length} nodes on ${cluster.sites.length} sites; listening on ${addrs.join(', ')}; files in ${dir}`,
  );
  const { packageRoot } = await import('../native/paths.js');
  const agents =
    agentsMs !== undefined && testbed ? startAgents(packageRoot, String(agentsMs), testbed, local, log) : [];
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  for (const a of agents) a.kill('SIGTERM');
  await mgr.close();
  await slurm?.stop();
  history?.close();
  return 0;
}

/**
 * --slurm: jobs go through Slurm (docs/slurm.md); on the testbed its node moves update Slurm.
 * --slurm-testbed: a Slurm of its own on the testbed for the manager's lifetime (stop() ends it).
 */
async function slurmOptions(
  values: Record<string, string | boolean | string[]>,
  testbed: import('../testbed/state.js').TestbedState | null,
  stateDir: string | undefined,
  log: (m: string) => void,
): Promise<{ options: import('../manager/slurm-jobs.js').SlurmOptions; stop: () => Promise<void> } | undefined> {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const own = values['slurm-testbed'] === true;
  if (!values.slurm && !own) {
    if (str('slurm-conf') || str('slurm-partition') || str('slurm-poll'))
      throw new UsageError('--slurm-conf, --slurm-partition and --slurm-poll go with --slurm');
    return undefined;
  }
  if (own && (!testbed || str('slurm-conf')))
    throw new UsageError('--slurm-testbed starts a Slurm on the testbed: it goes with --testbed, not --slurm-conf');
  const poll = str('slurm-poll') !== undefined ? parseNumber(str('slurm-poll'), '--slurm-poll') : undefined;
  if (poll !== undefined && !(poll >= 100 && poll <= 60_000))
    throw new UsageError('--slurm-poll MS must be 100..60000');
  const { startSlurmOnTestbed, testbedSites } = await import('../manager/slurm-testbed.js');
  const mine = own && testbed ? await startSlurmOnTestbed(testbed) : null;
  if (mine) log(`Slurm on the testbed: SLURM_CONF=${mine.conf}`);
  return {
    options: {
      conf: mine?.conf ?? (str('slurm-conf') !== undefined ? path.resolve(str('slurm-conf')!) : undefined),
      partition: str('slurm-partition') ?? mine?.partition,
      pollMs: poll,
      sitesNow: testbed ? testbedSites(stateDir ?? testbed.stateDir) : undefined,
    },
    stop: async () => await mine?.stop(),
  };
}

function onOff(v: string | undefined, what: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (v !== 'on' && v !== 'off') throw new UsageError(`${what} takes on or off, not ${v}`);
  return v === 'on';
}

/** One agent per testbed node, inside the node's namespace (its own /proc/loadavg is the host's). */
function startAgents(
  packageRoot: string,
  interval: string,
  testbed: import('../testbed/state.js').TestbedState,
  manager: string,
  log: (m: string) => void,
): ChildProcess[] {
  const bin = path.join(packageRoot, 'bin', 'sitempi');
  return testbed.nodes.map((n) => {
    const c = spawn(
      'ip',
      [
        'netns',
        'exec',
        n.netns,
        process.execPath,
        bin,
        'agent',
        '--manager',
        manager,
        '--node',
        n.name,
        '--interval',
        interval,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    c.on('error', (e) => log(`agent of ${n.name}: ${e.message}`));
    return c;
  });
}

async function agentCommand(argv: string[]): Promise<number> {
  const { values, rest } = takeOptions(
    argv,
    { '--manager': 'value', '--node': 'value', '--interval': 'value', '--token': 'value', '--token-file': 'value' },
    { stopAtUnknown: false },
  );
  if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
  if (typeof values.node !== 'string') throw new UsageError('agent needs --node NAME (the node of the cluster model)');
  const intervalMs = typeof values.interval === 'string' ? parseNumber(values.interval, '--interval') : 2000;
  if (intervalMs < 100 || intervalMs > 600_000) throw new UsageError('--interval is 100..600000 ms');
  const token = tokenFromOptions(values, (m) => process.stderr.write(`sitempi agent: warning: ${m}\n`));
  const { runAgent } = await import('../manager/agent.js');
  const a = runAgent({
    manager: typeof values.manager === 'string' ? values.manager : (process.env.SITEMPI_MANAGER ?? DEFAULT_MANAGER),
    token,
    node: values.node,
    intervalMs,
    log: (m) => process.stderr.write(`sitempi agent ${values.node as string}: ${m}\n`),
  });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  a.stop();
  return 0;
}
