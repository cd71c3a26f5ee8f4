// The scale benchmark's check: what the monitor counted (its job profile, and its report when
// built) against what the generator workers sent, exactly. The expected matrix is the Isend
// traffic plus every rank's Allreduce records expanded by the cost model (the addon), as the
// monitor expands collectives.
import { FUNCTIONS, ROLE_SHIFT } from '../../src/generated/functions.js';
import { expandCollective } from '../../src/native/addon.js';
import type { HostTotals, WorkerSent } from './ipc.js';
import { ALLREDUCE_BYTES, CODES } from './pattern.js';

const FN_MASK = (1 << ROLE_SHIFT) - 1;

export interface Expected {
  size: number;
  records: number;
  /** function id -> [calls, bytes] */
  functions: Map<number, [number, number]>;
  /** src * size + dst -> [bytes, messages] */
  pairs: Map<number, [number, number]>;
}

/** What the workers sent, summed; `firsts`: each worker's first rank (its allreduces' offset). */
export function expectedTotals(size: number, sent: WorkerSent[], firsts: number[]): Expected {
  const e: Expected = { size, records: 0, functions: new Map(), pairs: new Map() };
  const addPair = (s: number, d: number, b: number, m: number): void => {
    if (s === d) return;
    const k = s * size + d;
    const v = e.pairs.get(k);
    if (v) {
      v[0] += b;
      v[1] += m;
    } else e.pairs.set(k, [b, m]);
  };
  const allreduce = FUNCTIONS[CODES.allreduce & FN_MASK].coll!;
  sent.forEach((w, i) => {
    e.records += w.records;
    for (const [code, calls, bytes] of w.fn) {
      const id = code & FN_MASK;
      const v = e.functions.get(id) ?? [0, 0];
      v[0] += calls;
      v[1] += bytes;
      e.functions.set(id, v);
    }
    for (let k = 0; k < w.src.length; k++) addPair(w.src[k], w.dst[k], w.bytes[k], w.messages[k]);
    w.allreduces.forEach((count, j) => {
      if (!count) return;
      const f = expandCollective(allreduce, 0, firsts[i] + j, -1, size, ALLREDUCE_BYTES);
      for (let k = 0; k < f.src.length; k++) addPair(f.src[k], f.dst[k], f.bytes[k] * count, f.msgs[k] * count);
    });
  });
  return e;
}

/** Every difference between the monitor's totals and the expected ones (empty: exact). */
export function compareTotals(e: Expected, got: HostTotals): string[] {
  const bad: string[] = [];
  const eq = (what: string, a: unknown, b: unknown): void => {
    if (a !== b) bad.push(`${what}: monitor ${String(a)}, sent ${String(b)}`);
  };
  eq('records', got.records, e.records);
  eq('ranks seen', got.ranksSeen, e.size);
  eq('ranks finished (Bye)', got.ranksFinished, e.size);
  eq('end reason', got.endReason, 'complete');
  for (const [k, v] of Object.entries(got.losses)) eq(k, v, 0);
  eq('unexpanded collectives', got.unexpandedCollectives, 0);
  if (got.limitNotes.length) bad.push(`limits reached: ${got.limitNotes.join('; ')}`);
  const fnCheck = (what: string, list: Array<{ name: string; count: number; bytes: number }>): void => {
    eq(`${what} functions`, list.length, e.functions.size);
    for (const f of list) {
      const id = FUNCTIONS.findIndex((x) => x.name === f.name);
      const want = e.functions.get(id) ?? [0, 0];
      eq(`${what} ${f.name} calls`, f.count, want[0]);
      eq(`${what} ${f.name} bytes`, f.bytes, want[1]);
    }
  };
  fnCheck('profile', got.functions);
  const p = got.pairs;
  eq('non-zero pairs', p.src.length, e.pairs.size);
  let pairErrors = 0,
    bytes = 0n,
    messages = 0n;
  for (const [k, [b, m]] of e.pairs) {
    bytes += BigInt(b);
    messages += BigInt(m);
    void k;
  }
  for (let i = 0; i < p.src.length; i++) {
    const want = e.pairs.get(p.src[i] * e.size + p.dst[i]);
    if (!want || want[0] !== p.bytes[i] || want[1] !== p.messages[i]) {
      if (pairErrors++ < 5)
        bad.push(
          `pair ${p.src[i]}->${p.dst[i]}: monitor ${p.bytes[i]} B / ${p.messages[i]} msgs, sent ${want?.[0] ?? 0} / ${want?.[1] ?? 0}`,
        );
    }
  }
  if (pairErrors > 5) bad.push(`... ${pairErrors} pairs differ in all`);
  eq('matrix bytes', got.totalBytes, bytes.toString());
  eq('matrix messages', got.totalMessages, messages.toString());
  if (got.report) {
    const r = got.report;
    eq('report records', r.records, e.records);
    for (const [k, v] of Object.entries(r.dropped)) eq(`report dropped.${k}`, v, 0);
    fnCheck('report', r.functions);
    const top = r.topPairs[0];
    let most = 0;
    for (const [, [b]] of e.pairs) most = Math.max(most, b);
    eq('report top pair bytes', top?.bytes, most);
  }
  return bad;
}
