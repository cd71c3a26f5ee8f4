// What the run, monitor and report commands share: the report options, rendering a report (with
// the placement history when there is a placement service), the placement service from the options.
import { parseNumber, parseSize, UsageError } from './args.js';
import { wantsPlacement } from '../placement/cli.js';
import type { ClassifyOptions } from '../monitor/classify.js';
import type { JobProfile } from '../monitor/job.js';
import type { ReportOptions } from '../report/report.js';
import type { PlacementService as PlacementServiceT } from '../placement/service.js';

export const REPORT_OPTS = {
  '--top': 'value',
  '--threshold': 'value',
  '--mpi-fraction': 'value',
  '--no-histograms': 'flag',
  '--full-matrix': 'flag',
  '--verdict-rule': 'value',
  '--max-split-slowdown': 'value',
  '--replay-bytes': 'value',
} as const;

/** --replay-bytes: the records each job keeps for the prediction (undefined: the default). */
export function replayBytesOption(v: Record<string, string | boolean | string[]>): number | undefined {
  return typeof v['replay-bytes'] === 'string' ? parseSize(v['replay-bytes']) : undefined;
}

export function reportOptions(v: Record<string, string | boolean | string[]>): ReportOptions {
  const c: ClassifyOptions = {};
  if (typeof v.threshold === 'string') c.thresholdBytesPerSecond = parseSize(v.threshold);
  if (typeof v['mpi-fraction'] === 'string') c.mpiFractionThreshold = parseNumber(v['mpi-fraction'], '--mpi-fraction');
  if (typeof v['verdict-rule'] === 'string') {
    if (v['verdict-rule'] !== 'rates' && v['verdict-rule'] !== 'prediction')
      throw new UsageError(`--verdict-rule takes rates or prediction, not ${v['verdict-rule']}`);
    c.rule = v['verdict-rule'];
  }
  if (typeof v['max-split-slowdown'] === 'string') {
    c.maxSplitSlowdown = parseNumber(v['max-split-slowdown'], '--max-split-slowdown');
    if (!(c.maxSplitSlowdown >= 1)) throw new UsageError('--max-split-slowdown must be at least 1');
  }
  return {
    classify: c,
    top: typeof v.top === 'string' ? parseNumber(v.top, '--top') : undefined,
    histograms: v['no-histograms'] ? false : undefined,
    fullMatrix: v['full-matrix'] === true ? true : undefined,
  };
}

/**
 * The report of `jobs` (after `await job.prepare()`), built in slices that yield to the event loop,
 * so that a monitor serving other clients goes on serving them while it writes a large report.
 */
export async function render(
  jobs: readonly JobProfile[],
  json: boolean,
  ro: ReportOptions,
  svc?: PlacementServiceT | null,
): Promise<string> {
  const { buildReportAsync, formatTextAsync, reportJsonAsync } = await import('../report/report.js');
  if (json) {
    const rep = await buildReportAsync(jobs, ro);
    if (svc) (await import('../placement/report.js')).addPlacement(rep, svc);
    return (await reportJsonAsync(rep)) + '\n';
  }
  const text = await formatTextAsync(jobs, ro);
  if (!svc) return text;
  const { formatPlacementText } = await import('../placement/report.js');
  return (
    text +
    jobs
      .map((j) => {
        const h = svc.history(j);
        return h ? formatPlacementText(h) : '';
      })
      .join('')
  );
}

/** The placement service for run/monitor when placement options were given (null otherwise). */
export async function placementService(
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
