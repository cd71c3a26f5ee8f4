// Command-line wiring of the placement service for `sitempi run` and `sitempi monitor`.
// Kept free of heavy static imports: main.ts imports the option table statically.
import type { ClassifyOptions } from '../monitor/classify.js';
import type { Monitor } from '../monitor/monitor.js';
import type { CostModelOptions } from './cost.js';
import type { PlacementService } from './service.js';

export const PLACEMENT_OPTS = {
  '--sites': 'value',
  '--testbed': 'flag',
  '--testbed-state': 'value',
  '--executor-command': 'value',
  '--relocate': 'value',
  '--site-capacity': 'value',
  '--relocate-interval': 'value',
  '--min-observe': 'value',
  '--evaluate-every': 'value',
  '--vm-memory': 'value',
  '--dirty-rate': 'value',
  '--migration': 'value',
  '--no-gain-check': 'flag',
} as const;

export const PLACEMENT_USAGE = `placement options (run, monitor; see docs/relocation.md):
  --sites MAP            the jobs' placement, SITEMPI_SITES syntax ("A:0-3;B:4-7", "A:0,2;B:1,3",
                         "A:@host-a*;B:@host-b*"); with an executor, a placement to reach at start
  --testbed              relocate with the testbed that is up (nodes migrate between sites);
                         run: mpirun gets the testbed's arguments (hostfile, rsh agent, MCA)
  --testbed-state DIR    the testbed's state directory (default $SITEMPI_TESTBED_DIR or
                         /run/sitempi-testbed)
  --executor-command CMD relocate through a hook: CMD gets the job, the current and target
                         placements and the rank->host map as JSON on stdin and prints the
                         placement reached as JSON; CMD runs without a shell (words, quotes),
                         host names are checked (RFC 1123) first; only jobs launched by sitempi
                         or registered by an operator are moved
  --relocate auto|off    the consolidation policy (default: auto with an executor, else off)
  --site-capacity A=N,.. testbed: most nodes per site (default: the nodes each site started with)
  --relocate-interval S  seconds between two relocations of one job (default 60)
  --min-observe S        seconds of job wall time before the policy decides (default 3)
  --evaluate-every S     seconds between two evaluations of the policy (default 2)
  --vm-memory SIZE       cost model: memory per VM (default 1GiB)
  --dirty-rate RATE      cost model: bytes dirtied per second (default 32MiB/s)
  --migration MODE       live, stop or auto (default auto: the cheaper by the cost model)
  --no-gain-check        relocate network-intensive jobs even when the cost exceeds the gain
`;

type Values = Record<string, string | boolean | string[]>;

function num(v: string | boolean | string[] | undefined, what: string): number | undefined {
  if (typeof v !== 'string') return undefined;
  const n = Number(v);
  if (v === '' || !Number.isFinite(n) || n < 0) throw new PlacementUsageError(`${what} needs a number, got ${v}`);
  return n;
}

export class PlacementUsageError extends Error {}

/** Whether any placement option was given (no service otherwise: sitempi behaves as before). */
export function wantsPlacement(v: Values): boolean {
  return (
    typeof v.sites === 'string' ||
    v.testbed === true ||
    typeof v['executor-command'] === 'string' ||
    typeof v['testbed-state'] === 'string'
  );
}

/**
 * Builds and starts the placement service from command-line values, logging placements and
 * relocations through `log`. Throws PlacementUsageError for bad options, Error when the testbed
 * is not up.
 */
export async function placementFromOptions(
  monitor: Monitor,
  v: Values,
  classify: ClassifyOptions,
  log: (m: string) => void,
): Promise<PlacementService> {
  const { parseSize } = await import('../cli/args.js');
  const { PlacementService } = await import('./service.js');
  const { parseSiteSpec, SiteMapError } = await import('./sitemap.js');
  const sites = typeof v.sites === 'string' ? v.sites : undefined;
  if (sites !== undefined) {
    try {
      parseSiteSpec(sites);
    } catch (e) {
      if (e instanceof SiteMapError) throw new PlacementUsageError(`--sites: ${e.message}`);
      throw e;
    }
  }
  const testbed = v.testbed === true || typeof v['testbed-state'] === 'string';
  const cmd = typeof v['executor-command'] === 'string' ? v['executor-command'] : undefined;
  if (testbed && cmd) throw new PlacementUsageError('--testbed and --executor-command exclude each other');
  let executor;
  if (testbed) {
    const { TestbedExecutor } = await import('./testbed-executor.js');
    let maxNodesPerSite: Record<string, number> | undefined;
    if (typeof v['site-capacity'] === 'string') {
      maxNodesPerSite = {};
      for (const part of v['site-capacity'].split(',')) {
        const m = /^\s*([A-Za-z0-9_.-]+)\s*=\s*(\d+|inf)\s*$/.exec(part);
        if (!m) throw new PlacementUsageError(`--site-capacity: expected SITE=N,..., got ${part}`);
        maxNodesPerSite[m[1]] = m[2] === 'inf' ? Infinity : Number(m[2]);
      }
    }
    executor = new TestbedExecutor({
      stateDir: typeof v['testbed-state'] === 'string' ? v['testbed-state'] : undefined,
      maxNodesPerSite,
    });
  } else if (cmd) {
    const { CommandExecutor } = await import('./command-executor.js');
    try {
      executor = new CommandExecutor({ command: cmd });
    } catch (e) {
      throw new PlacementUsageError(`--executor-command: ${(e as Error).message}`);
    }
  }
  const relocate = typeof v.relocate === 'string' ? v.relocate : executor ? 'auto' : 'off';
  if (relocate !== 'auto' && relocate !== 'off')
    throw new PlacementUsageError(`--relocate: auto or off, got ${relocate}`);
  if (relocate === 'auto' && !executor)
    throw new PlacementUsageError('--relocate auto needs an executor (--testbed or --executor-command)');
  const cost: CostModelOptions = {};
  if (typeof v['vm-memory'] === 'string') cost.vmMemoryBytes = parseSize(v['vm-memory']);
  if (typeof v['dirty-rate'] === 'string') cost.dirtyBytesPerSecond = parseSize(v['dirty-rate']);
  if (typeof v.migration === 'string') {
    if (!['live', 'stop', 'auto'].includes(v.migration))
      throw new PlacementUsageError(`--migration: live, stop or auto, got ${v.migration}`);
    cost.mode = v.migration as CostModelOptions['mode'];
  }
  const interval = num(v['relocate-interval'], '--relocate-interval');
  const observe = num(v['min-observe'], '--min-observe');
  const every = num(v['evaluate-every'], '--evaluate-every');
  const svc = new PlacementService(monitor, {
    sites,
    executor,
    cost,
    classify,
    policy:
      relocate === 'auto'
        ? {
            minIntervalMs: interval !== undefined ? interval * 1000 : undefined,
            minObserveSeconds: observe,
            evaluateEveryMs: every !== undefined ? every * 1000 : undefined,
            requireGain: v['no-gain-check'] !== true,
          }
        : false,
  });
  svc.on('placement', (ev) =>
    log(
      `job ${ev.jobId}: placement epoch ${ev.epoch} ${ev.map} [${ev.source}] ${ev.reason} (sent to ${ev.ranksNotified} ranks)`,
    ),
  );
  svc.on('relocation', (ev) => {
    if (!ev.ok) log(`job ${ev.jobId}: relocation (${ev.trigger}) failed: ${ev.error}`);
    else if (!ev.reachedTarget)
      log(
        `job ${ev.jobId}: relocation (${ev.trigger}) reached a different placement than asked (epoch ${ev.epochAfter})`,
      );
  });
  const skipped = new Set<string>(); // log a skipped consolidation once per job
  svc.on('decision', (d) => {
    if (d.action === 'skip' && !skipped.has(d.jobId)) {
      skipped.add(d.jobId);
      log(`job ${d.jobId}: ${d.summary}`);
    }
  });
  svc.on('warning', (m) => log(m));
  await svc.start();
  return svc;
}
