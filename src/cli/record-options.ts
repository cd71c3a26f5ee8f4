// `--record-dir DIR [--record-max-bytes SIZE]` of `sitempi monitor` and `sitempi run`: the ranks'
// streams kept as rank files (src/monitor/record-dir.ts), for `sitempi report [--trace]`.
import { parseSize, UsageError } from './args.js';
import type { Monitor } from '../monitor/monitor.js';
import type { JobRecording, RecordDir } from '../monitor/record-dir.js';

export const RECORD_OPTS = { '--record-dir': 'value', '--record-max-bytes': 'value' } as const;

/** The cap asked for by --record-max-bytes (undefined: the default), a UsageError when bad. */
export function recordMaxBytes(values: Record<string, string | boolean | string[]>): number | undefined {
  const v = values['record-max-bytes'];
  if (typeof v !== 'string') return undefined;
  const n = parseSize(v);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--record-max-bytes needs a size, got ${v}`);
  return Math.floor(n);
}

/**
 * A recorder into `dir` attached to `monitor`: a stop (the cap reached) is said on stderr always,
 * each job's files by `log`.
 */
export async function startRecording(
  monitor: Monitor,
  dir: string,
  maxJobBytes: number | undefined,
  log: (m: string) => void,
  prefix: string,
): Promise<RecordDir> {
  const { RecordDir } = await import('../monitor/record-dir.js');
  const rec = await RecordDir.open(dir, {
    maxJobBytes,
    onNote: (m) => process.stderr.write(`${prefix}: warning: --record-dir: ${m}\n`),
    onJobWritten: (r: JobRecording) =>
      log(`job ${r.job}: ${r.files.length} rank files, ${r.bytes} bytes recorded in ${dir}`),
  });
  rec.attach(monitor);
  return rec;
}
