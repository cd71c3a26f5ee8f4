// Calibration of a link class's LogGP parameters from a ping-pong run's records: rank A sends m
// bytes to B with a blocking send and receives them back, for several sizes m (eager sizes).
//
// In the model one way takes 2o + mG + L, and an eager blocking send returns after o + mG. So:
//   G       the slope of the half round trip against m (least squares over all round trips),
//   o       the median duration of the smallest sends, less their mG,
//   L       the intercept less 2o,
//   g       taken equal to o (a ping-pong cannot tell them apart).
import { FUNCTIONS, Role, ROLE_SHIFT } from '../generated/functions.js';
import type { LogGP } from './cluster.js';
import type { RankRecords } from './records.js';

const FN_MASK = (1 << ROLE_SHIFT) - 1;

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length ? s[s.length >> 1] : NaN;
}

/** Round trips (bytes, ns) of one rank: a blocking send followed by a receive from the same peer. */
export function roundTrips(r: RankRecords): { bytes: number[]; rtt: number[]; sendNs: number[] } {
  const out = { bytes: [] as number[], rtt: [] as number[], sendNs: [] as number[] };
  for (let i = 0; i + 1 < r.fn.length; i++) {
    const f = FUNCTIONS[r.fn[i] & FN_MASK],
      g = FUNCTIONS[r.fn[i + 1] & FN_MASK];
    if (f?.kind !== 'send' || g?.kind !== 'recv') continue;
    if (r.fn[i] >>> ROLE_SHIFT !== Role.Send || r.peer[i] !== r.peer[i + 1]) continue;
    out.bytes.push(r.bytes[i]);
    out.rtt.push(r.start[i + 1] + r.duration[i + 1] - r.start[i]);
    out.sendNs.push(r.duration[i]);
  }
  return out;
}

/** LogGP of the link the ping-pong ran on; throws when the records hold no usable round trips. */
export function calibrate(ranks: RankRecords[]): LogGP {
  // the rank that sends first sees whole round trips
  let best: ReturnType<typeof roundTrips> | undefined;
  for (const r of ranks) {
    const t = roundTrips(r);
    if (!best || t.rtt.length > best.rtt.length) best = t;
  }
  if (!best || best.rtt.length < 2) throw new Error('calibrate: no ping-pong round trips in the records');
  const n = best.rtt.length;
  let sx = 0,
    sy = 0,
    sxx = 0,
    sxy = 0;
  for (let i = 0; i < n; i++) {
    const x = best.bytes[i],
      y = best.rtt[i] / 2;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const den = n * sxx - sx * sx;
  if (den <= 0) throw new Error('calibrate: the ping-pong needs at least two message sizes');
  const G = Math.max(0, (n * sxy - sx * sy) / den);
  const intercept = (sy - G * sx) / n;
  const minBytes = Math.min(...best.bytes);
  const small = best.sendNs.filter((_, i) => best.bytes[i] === minBytes);
  const o = Math.max(0, median(small) - minBytes * G);
  const L = Math.max(0, intercept - 2 * o);
  return { o, g: o, L, G };
}
