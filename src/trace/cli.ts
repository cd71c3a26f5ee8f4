// `sitempi report --trace FILE [--trace-max-events N]`: the options and the write, kept here so
// that the report command only names them (src/cli/report-command.ts).
import { parseNumber, UsageError } from '../cli/args.js';

/** The report command's options for the trace. */
export const TRACE_OPTS = { '--trace': 'value', '--trace-max-events': 'value' } as const;

export interface TraceRequest {
  out: string;
  maxEvents?: number;
}

/** The trace asked for by the parsed options, or null; a UsageError for bad values. */
export function traceRequest(values: Record<string, string | boolean | string[]>): TraceRequest | null {
  const max = values['trace-max-events'];
  if (typeof values.trace !== 'string') {
    if (max !== undefined) throw new UsageError('--trace-max-events needs --trace FILE');
    return null;
  }
  const maxEvents = typeof max === 'string' ? parseNumber(max, '--trace-max-events') : undefined;
  if (maxEvents !== undefined && !(Number.isInteger(maxEvents) && maxEvents >= 1))
    throw new UsageError(`--trace-max-events needs a positive integer, got ${max}`);
  return { out: values.trace, maxEvents };
}

/** Writes the trace of `files` and says so on stderr (one line). */
export async function writeTraceFile(files: string[], t: TraceRequest, maxFileBytes?: number): Promise<void> {
  const { writeTrace } = await import('./index.js');
  const s = await writeTrace(files, t.out, { maxEvents: t.maxEvents, maxFileBytes });
  let how = s.coalesced ? `, coalesced into ${s.spans} spans` : '';
  if (s.marksOverLimit) how += `, ${s.marksOverLimit} placement marks left out past the limit`;
  if (s.callsWritten !== s.calls) how += ` (${s.callsWritten} written: the files grew while read)`;
  process.stderr.write(`sitempi: trace of ${s.ranks} ranks, ${s.calls} calls${how}: ${t.out}\n`);
}
