// sitempi report: the report from the per-rank files the shim writes without a monitor.
import path from 'node:path';
import type { JobProfile } from '../monitor/job.js';
import { parseSize, takeOptions, UsageError } from './args.js';
import { render, replayBytesOption, REPORT_OPTS, reportOptions } from './common.js';
import { USAGE } from './usage.js';
import { TRACE_OPTS, traceRequest, writeTraceFile } from '../trace/cli.js';

export async function reportCommand(argv: string[]): Promise<number> {
  const spec = {
    '--json': 'flag',
    '--max-file-size': 'value',
    '--plot': 'value',
    '--plot-values': 'value',
    '-h': 'flag',
    '--help': 'flag',
    ...REPORT_OPTS,
    ...TRACE_OPTS,
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
  const trace = traceRequest(values);
  const plot = typeof values.plot === 'string' ? values.plot : null;
  const plotValues = values['plot-values'] ?? 'bytes';
  if (plotValues !== 'bytes' && plotValues !== 'messages')
    throw new UsageError(`--plot-values takes bytes or messages, not ${String(plotValues)}`);
  if (plot === '') throw new UsageError('--plot needs a file name');
  const { loadRankFiles, newLoadStats } = await import('../monitor/files.js');
  const stats = newLoadStats();
  const maxFileBytes = typeof values['max-file-size'] === 'string' ? parseSize(values['max-file-size']) : undefined;
  const jobs = await loadRankFiles(files, {
    stats,
    maxFileBytes,
    onWarning: (m) => process.stderr.write(`sitempi: warning: ${m}\n`),
  });
  const ro = reportOptions(values);
  if (ro.classify?.rule !== 'rates')
    await (
      await import('../monitor/prediction.js')
    ).windowsFromFiles(files, jobs, replayBytesOption(values), (m) => process.stderr.write(`sitempi: warning: ${m}\n`));
  process.stdout.write(await render(jobs, values.json === true, { ...ro, badFrames: stats.badFrames }));
  if (trace) await writeTraceFile(files, trace, maxFileBytes);
  if (plot !== null && jobs.length) await plotJobs(plot, jobs, plotValues);
  return jobs.length ? 0 : 1;
}

/** The heatmap of each job: FILE for one job, FILE with "-<job id>" before its extension for several. */
async function plotJobs(file: string, jobs: JobProfile[], values: 'bytes' | 'messages'): Promise<void> {
  const { formatBytes, formatCount, writeHeatmap } = await import('../report/report.js');
  const ext = path.extname(file);
  for (const job of jobs) {
    const out =
      jobs.length === 1 ? file : `${file.slice(0, file.length - ext.length)}-${job.id.replace(/[^\w.-]/g, '_')}${ext}`;
    const h = await writeHeatmap(out, job, { values });
    const fmt = values === 'bytes' ? formatBytes : (n: number) => `${formatCount(n)} messages`;
    process.stderr.write(
      `sitempi: heatmap of job ${job.id} in ${out}: ${h.width}x${h.height} px, ${h.blocks}x${h.blocks} ` +
        `${h.by === 'rank' ? 'ranks' : h.by === 'host' ? 'hosts' : 'rank ranges'}, ${values} on a log scale ` +
        `from ${fmt(h.min)} (dark purple) to ${fmt(h.max)} (yellow), white: none\n`,
    );
  }
}
