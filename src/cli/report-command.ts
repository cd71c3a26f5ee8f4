// sitempi report: the report from the per-rank files the shim writes without a monitor.
import { parseSize, takeOptions, UsageError } from './args.js';
import { render, REPORT_OPTS, reportOptions } from './common.js';
import { USAGE } from './usage.js';
import { TRACE_OPTS, traceRequest, writeTraceFile } from '../trace/cli.js';

export async function reportCommand(argv: string[]): Promise<number> {
  const spec = {
    '--json': 'flag',
    '--max-file-size': 'value',
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
  if (trace) await writeTraceFile(files, trace, maxFileBytes);
  return jobs.length ? 0 : 1;
}
