// WAN links in the replay (docs/replay.md, "The model"): a link takes its messages in the order
// they were sent, messages sent at one time by their senders' ranks (the model's tie rule). In
// dataflow mode a WAN message waits until no rank can run, then takes its link; answers exact to
// the model, and the same as the replay kept in time order.
import { describe, expect, it } from 'vitest';
import { replay, replayInTimeOrder, type ReplayResult } from '../../src/replay/engine.js';
import { TraceBuilder, type Trace } from '../../src/replay/trace.js';
import { cluster, local, wan } from './hand-cluster.js';

const m = 60_000; // eager
/** A WAN message sent at `t` on a link free from `free`: [when the link is free again, when it is received]. */
const wanHop = (t: number, free: number): [number, number] => {
  const start = t + local.o;
  const linkEnd = Math.max(start, free) + m * wan.G;
  return [linkEnd, Math.max(linkEnd, start + m * local.G) + wan.L + local.o];
};
const same = (a: ReplayResult, b: ReplayResult): void => {
  expect(a.wallNs).toBe(b.wallNs);
  expect([...a.endNs]).toEqual([...b.endNs]);
  expect([...a.wanNs]).toEqual([...b.wanNs]);
  expect([...a.localNs]).toEqual([...b.localNs]);
};

describe('replay: WAN links, in dataflow mode and in time order', () => {
  it('a WAN link carries messages in the order they were sent, not the order ranks ran in', () => {
    // rank 0 runs first but sends later (5000) than rank 1 (1000): rank 1's message goes first
    const b = new TraceBuilder(4);
    b.compute(0, 5000).send(0, 2, m);
    b.compute(1, 1000).send(1, 3, m);
    b.recv(2, 0, m).recv(3, 1, m);
    const t = b.finish();
    const c = cluster([0, 0, 1, 1]);
    const res = replay(t, c);
    const [free, first] = wanHop(1000, 0);
    const [, second] = wanHop(5000, free);
    expect(res.endNs[3]).toBe(first);
    expect(res.endNs[2]).toBe(second);
    expect(res.endNs[0]).toBe(5000 + local.o + m * local.G); // an eager send ends when injected
    same(res, replayInTimeOrder(t, c));
  });

  /** Ranks 1 and 2 both send at 1000 on one link; `carrier` gets there in two steps (400 + 600), the other in one. */
  const tie = (carrier: number): Trace => {
    const other = 3 - carrier;
    const b = new TraceBuilder(6);
    b.compute(0, 5000);
    b.compute(carrier, 400)
      .compute(carrier, 600)
      .send(carrier, carrier + 3, m);
    b.compute(other, 1000).send(other, other + 3, m);
    for (const r of [1, 2]) b.recv(r + 3, r, m);
    return b.finish();
  };

  it('messages sent at one time on one link go by sender rank, whichever rank ran on into that time', () => {
    for (const zero of [false, true]) {
      // (latencies of 0 inside a site: ranks woken at the tie's time could send at it too)
      const c = cluster(
        [0, 0, 0, 1, 1, 1],
        zero ? { intraSite: { ...local, L: 0 }, intraNode: { ...local, L: 0 } } : {},
      );
      const [free, first] = wanHop(1000, 0);
      const [, second] = wanHop(1000, free);
      for (const carrier of [1, 2]) {
        const t = tie(carrier);
        const res = replay(t, c);
        expect(res.endNs[4]).toBe(first);
        expect(res.endNs[5]).toBe(second);
        same(res, replayInTimeOrder(t, c));
      }
    }
  });

  it('rendezvous messages are sent when both ends are posted', () => {
    // receivers post late and in the opposite order of their senders
    const big = 1 << 20;
    const b = new TraceBuilder(4);
    b.send(0, 2, big);
    b.compute(1, 1000).send(1, 3, big);
    b.compute(2, 4_000_000).recv(2, 0, big);
    b.compute(3, 2_000_000).recv(3, 1, big);
    const t = b.finish();
    const c = cluster([0, 0, 1, 1]);
    const res = replay(t, c);
    // 1 -> 3 is sent at 2 ms (its receive's post) and its data leaves L after; 0 -> 2, sent at
    // 4 ms, queues behind it on the link
    const firstOnLink = 2_000_000 + wan.L + big * wan.G;
    expect(res.endNs[3]).toBe(firstOnLink + wan.L + local.o);
    expect(res.endNs[2]).toBe(firstOnLink + big * wan.G + wan.L + local.o);
    same(res, replayInTimeOrder(t, c));
  });
});
