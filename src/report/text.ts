// The text report of a job (what people read): built from the same JobReport as the JSON.
import type { Quantiles } from './ranks.js';
import type { FunctionReport, JobReport, RankReport, ReportOptions } from './types.js';

/** Rows of the quantile lines under the rank table of a large job. */
const QUANTILE_ROWS: Array<[string, keyof Quantiles]> = [
  ['min', 'min'],
  ['p10', 'p10'],
  ['median', 'median'],
  ['p90', 'p90'],
  ['max', 'max'],
  ['mean', 'mean'],
];

const SI = ['', 'K', 'M', 'G', 'T', 'P', 'E'];
/** 1234567 -> "1.23 MB" (decimal units, like the MB/s of Tatezono et al.). */
export function formatBytes(b: number): string {
  let i = 0;
  let v = b;
  while (v >= 1000 && i < SI.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${b} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${SI[i]}B`;
}

export function formatCount(n: number): string {
  if (n < 1e4) return String(n);
  let i = 0;
  let v = n;
  while (v >= 1000 && i < SI.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)}${SI[i]}`;
}

function secs(s: number): string {
  if (s === 0) return '0';
  if (s < 1e-3) return `${(s * 1e6).toFixed(1)}us`;
  if (s < 1) return `${(s * 1e3).toFixed(2)}ms`;
  return `${s.toFixed(3)}s`;
}

function table(head: string[], rows: string[][], right: boolean[]): string[] {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    '  ' +
    r
      .map((c, i) => (right[i] ? c.padStart(w[i]) : c.padEnd(w[i])))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)];
}

/** Human-readable report of one job. */
export function formatJobText(r: JobReport, opts: ReportOptions = {}): string {
  const top = opts.top ?? 10;
  const out: string[] = [];
  const state = r.complete
    ? 'complete'
    : `incomplete: ${r.ranksFinished}/${r.size} ranks finished${r.endReason ? `, ${r.endReason}` : ''}`;
  out.push(
    `sitempi: job ${r.id}${r.program ? ` (${r.program})` : ''} - ${r.size} ranks, wall ${secs(r.wallSeconds)}, ${(r.mpiFraction * 100).toFixed(1)}% in MPI, ${formatCount(r.records)} records (${state})`,
  );
  const c = r.classification;
  out.push('');
  out.push(`Classification: ${c.verdict}`);
  for (const why of c.reasons) out.push(`  - ${why}`);
  out.push('');
  const rs = r.rankSummary;
  const some = rs.listed === 'extremes';
  out.push(
    some
      ? `Time in MPI per rank: ${rs.ranksListed} of ${r.size} ranks (the ${rs.mostMpi.length} with the most and ` +
          `${rs.leastMpi.length} with the least time in MPI, ${rs.problems.length} with problems; quantiles below)`
      : 'Time in MPI per rank',
  );
  const why = (k: RankReport) =>
    [
      k.seen ? (k.finished ? '' : 'no Bye') : 'never connected',
      ...(some && rs.mostMpi.includes(k.rank) ? ['most MPI'] : []),
      ...(some && rs.leastMpi.includes(k.rank) ? ['least MPI'] : []),
    ]
      .filter((w) => w)
      .join(', ');
  const rankRows = r.ranks.map((k) => [
    String(k.rank),
    k.host || '-',
    secs(k.wallSeconds),
    secs(k.mpiSeconds),
    `${(k.mpiFraction * 100).toFixed(1)}%`,
    formatCount(k.calls),
    String(k.droppedRecords + k.lostRecords),
    why(k),
  ]);
  if (some) {
    const q = rs.quantiles;
    for (const [name, key] of QUANTILE_ROWS)
      rankRows.push([
        name,
        '',
        secs(q.wallSeconds[key]),
        secs(q.mpiSeconds[key]),
        `${(q.mpiFraction[key] * 100).toFixed(1)}%`,
        formatCount(Math.round(q.calls[key])),
        '',
        '',
      ]);
  }
  rankRows.push([
    'all',
    '',
    secs(r.wallSeconds),
    secs(r.mpiSeconds),
    `${(r.mpiFraction * 100).toFixed(1)}%`,
    formatCount(rs.calls),
    String(r.dropped.records + r.dropped.lostRecords),
    some && (rs.notSeen || rs.notFinished) ? `${rs.notSeen} never connected, ${rs.notFinished} no Bye` : '',
  ]);
  out.push(
    ...table(['rank', 'host', 'wall', 'MPI', 'MPI%', 'calls', 'lost', ''], rankRows, [
      true,
      false,
      true,
      true,
      true,
      true,
      true,
      false,
    ]),
  );
  const fnRows = (list: FunctionReport[]) =>
    list
      .slice(0, top)
      .map((f) => [
        f.name,
        formatCount(f.count),
        secs(f.seconds),
        `${(f.mpiShare * 100).toFixed(1)}%`,
        formatBytes(f.bytes),
        f.count > 0 ? formatBytes(Math.round(f.bytes / f.count)) : '-',
      ]);
  const head = ['function', 'calls', 'time', '%MPI', 'bytes', 'bytes/call'];
  const right = [false, true, true, true, true, true];
  out.push('');
  out.push('Top functions by time (summed over ranks)');
  out.push(...(r.functions.length ? table(head, fnRows(r.functions), right) : ['  (no MPI calls recorded)']));
  const byBytes = [...r.functions].filter((f) => f.bytes > 0).sort((a, b) => b.bytes - a.bytes || a.id - b.id);
  out.push('');
  out.push(
    `Top functions by bytes${r.dropped.invalidPeerRecords ? ' (every call record: also those with invalid peers, see below)' : ''}`,
  );
  out.push(...(byBytes.length ? table(head, fnRows(byBytes), right) : ['  (no data moved)']));
  out.push('');
  out.push('Heaviest rank pairs (point-to-point, one-sided and expanded collectives)');
  out.push(
    ...(r.topPairs.length
      ? table(
          ['src', 'dst', 'bytes', 'messages', 'bytes/msg'],
          r.topPairs.map((p) => [
            String(p.src),
            String(p.dst),
            formatBytes(p.bytes),
            formatCount(p.messages),
            p.messages > 0 ? formatBytes(Math.round(p.bytes / p.messages)) : '-',
          ]),
          [true, true, true, true, true],
        )
      : ['  (no traffic between ranks)']),
  );
  if (r.coarseMatrix) {
    const c = r.coarseMatrix;
    out.push(
      `  ${formatCount(r.pairCount)} pairs of ranks exchanged data; the JSON report holds the matrix in ` +
        `${c.blocks.length} x ${c.blocks.length} blocks by ${c.by === 'host' ? 'host' : 'rank range'} ` +
        `(every pair with --full-matrix; a picture: sitempi report --plot FILE)`,
    );
  }
  const n = c.numbers;
  out.push('');
  out.push(
    `Split in halves: ${formatBytes(n.crossBytes)} in ${formatCount(n.crossMessages)} messages would cross sites ` +
      `(${(n.crossFraction * 100).toFixed(1)}% of ${formatBytes(n.totalBytes)}), ${formatBytes(n.crossBytesPerSecond)}/s over ${secs(n.wallSeconds)}`,
  );
  const d = r.dropped;
  if (d.records || d.lostBatches || d.lostRecords) {
    out.push(
      `Lost data: ${d.records} records dropped by the shim, ${d.lostBatches} batches and ${d.lostRecords} records lost in transit: figures are lower bounds`,
    );
  }
  if (d.badFrames)
    out.push(
      `Corrupt data: ${d.badFrames} frames of the rank files did not decode and were skipped: figures are lower bounds`,
    );
  if (d.invalidPeerRecords) {
    const who = r.ranks
      .filter((k) => k.invalidPeerRecords > 0)
      .map((k) => `rank ${k.rank}: ${k.invalidPeerRecords}`)
      .slice(0, 8)
      .join(', ');
    out.push(
      `Invalid peers: ${d.invalidPeerRecords} records name a peer outside 0..${r.size - 1} (${who}): the function tables count them, the matrix and the pairs leave them out`,
    );
  }
  if (d.unknownFunctionRecords)
    out.push(
      `Unknown functions: ${d.unknownFunctionRecords} call records of function ids this monitor does not know (a newer shim?) are in no table`,
    );
  for (const l of r.limits) out.push(`Limit reached: ${l}`);
  if (r.unexpandedCollectives > 0)
    out.push(
      `Collective calls not expanded into the matrix (unknown or inter-communicator, unmodelled): ${r.unexpandedCollectives}`,
    );
  return out.join('\n') + '\n';
}
