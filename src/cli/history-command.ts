// sitempi history: the past jobs of the job history (docs/history.md), all or one name's runs.
import { parseNumber, takeOptions, UsageError } from './args.js';
import { USAGE } from './usage.js';

export async function historyCommand(argv: string[]): Promise<number> {
  const spec = {
    '--json': 'flag',
    '--full': 'flag',
    '--history': 'value',
    '--limit': 'value',
    '-h': 'flag',
    '--help': 'flag',
  } as const;
  const { values, rest } = takeOptions(argv, spec, { stopAtUnknown: false });
  if (values.help || values.h) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (rest.length > 1) throw new UsageError(`unexpected argument ${rest[1]}`);
  const limit = typeof values.limit === 'string' ? parseNumber(values.limit, '--limit') : 100;
  const { HistoryStore } = await import('../history/store.js');
  const { historyPath } = await import('../history/recorder.js');
  const file = historyPath(typeof values.history === 'string' ? values.history : 'default');
  const store = HistoryStore.open(file, { readonly: true });
  try {
    const jobs = store.list({ name: rest[0], limit, full: values.full === true });
    if (values.json) {
      process.stdout.write(JSON.stringify({ schema: 1, database: file, jobs }) + '\n');
      return 0;
    }
    if (jobs.length === 0) {
      process.stdout.write(rest[0] ? `no runs of ${rest[0]} in ${file}\n` : `no jobs in ${file}\n`);
      return 0;
    }
    const rows = jobs.map((j) => [
      j.endedAt.replace('T', ' ').slice(0, 19),
      j.name,
      j.jobId,
      String(j.size),
      j.wallSeconds.toFixed(1),
      `${(j.mpiFraction * 100).toFixed(0)}%`,
      j.verdict + (j.startVerdict ? ` (started as ${j.startVerdict.verdict}, history)` : ''),
      j.placements.map((p) => p.map).join(' -> ') || '-',
      j.relocations.map((r) => `${r.trigger}${r.ok ? '' : ' FAILED'} @${placedAt(j, r.epochAfter)}`).join(', ') || '-',
    ]);
    const head = ['ended (UTC)', 'name', 'job', 'ranks', 'wall s', 'MPI', 'verdict', 'placements', 'relocations'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (r: string[]) =>
      r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd();
    process.stdout.write([line(head), ...rows.map(line)].join('\n') + '\n');
    return 0;
  } finally {
    store.close();
  }
}

/** When (job seconds) the placement of `epoch` took effect. */
function placedAt(j: { placements: Array<{ epoch: number; jobSeconds: number }> }, epoch: number): string {
  const p = j.placements.find((x) => x.epoch === epoch);
  return p ? `${p.jobSeconds.toFixed(1)}s` : '?';
}
