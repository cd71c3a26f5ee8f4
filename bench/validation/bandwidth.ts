// The WAN link's per-byte cost for the model, from bench/validation/stream.c's records: bursts of
// large messages one way, each answered by one byte. A ping-pong of eager sizes measures a fresh,
// window-limited TCP connection at each size (at 10 ms RTT its slope is several times the link's);
// bulk transfers after the window has grown are what the validation programs' large messages see.
import { FUNCTIONS, ROLE_SHIFT } from '../../src/generated/functions.js';
import { roundTrips } from '../../src/replay/calibrate.js';
import type { LogGP } from '../../src/replay/cluster.js';
import type { RankRecords } from '../../src/replay/records.js';
import { median } from './stats.js';

const FN_MASK = (1 << ROLE_SHIFT) - 1;

/**
 * ns per byte of the bursts of the rank that sends them (the first burst, which grows the window,
 * left out), less one round trip `rttNs` per burst for its answer.
 */
export function bulkPerByte(ranks: RankRecords[], rttNs: number): number {
  const per: number[] = [];
  for (const r of ranks) {
    let first = -1,
      sent = 0;
    for (let i = 0; i < r.fn.length; i++) {
      const kind = FUNCTIONS[r.fn[i] & FN_MASK]?.kind;
      if (kind === 'send' && r.bytes[i] > 1) {
        if (first < 0) first = i;
        sent += r.bytes[i];
      } else if (kind === 'recv' && first >= 0) {
        per.push((r.start[i] + r.duration[i] - r.start[first] - rttNs) / sent);
        first = -1;
        sent = 0;
      }
    }
  }
  if (per.length < 2) throw new Error('bandwidth calibration: fewer than two bursts in the records');
  return Math.max(0, median(per.slice(1)));
}

/**
 * The WAN path's one-way latency for the model from a ping-pong across sites: half the median
 * round trip of its smallest messages, less what the model charges besides L (the local o at
 * both ends and the bytes at the local G). Only the smallest size: the larger ones wait for the
 * fresh connection's window.
 */
export function wanLatency(ranks: RankRecords[], local: LogGP): number {
  let best: ReturnType<typeof roundTrips> | undefined;
  for (const r of ranks) {
    const t = roundTrips(r);
    if (!best || t.rtt.length > best.rtt.length) best = t;
  }
  const t = best;
  if (!t || t.rtt.length === 0) throw new Error('latency calibration: no round trips in the records');
  const small = Math.min(...t.bytes);
  const rtts = t.rtt.filter((_, i) => t.bytes[i] === small);
  return Math.max(0, median(rtts) / 2 - 2 * local.o - small * local.G);
}
