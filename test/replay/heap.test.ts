// The replay's priority queues (src/replay/heap.ts): the sorted queue pops in the heap's order
// (time, then id) whatever order items come in, nearly sorted or not.
import { describe, expect, it } from 'vitest';
import { TimeHeap, TimeQueue } from '../../src/replay/heap.js';
import { Rng } from '../../bench/replay-random.js';

describe('replay queues', () => {
  it('TimeQueue pops as TimeHeap does, pushes and pops interleaved', () => {
    const g = new Rng(3);
    for (const spread of [0, 3, 40, 1e6]) {
      const h = new TimeHeap(4),
        q = new TimeQueue(4);
      const popped: number[][] = [[], []];
      let base = 0;
      for (let k = 0; k < 4000; k++) {
        // times near a rising base (spread 0: in order; ties often: whole numbers)
        base += g.int(3);
        const t = base + g.int(spread + 1) - (spread >> 1);
        h.push(t, k % 97);
        q.push(t, k % 97);
        if (g.int(3) === 0)
          for (let n = g.int(4); n > 0 && h.size; n--) {
            expect(q.peekTime()).toBe(h.peekTime());
            popped[0].push(h.pop());
            popped[1].push(q.pop());
          }
      }
      while (h.size) {
        popped[0].push(h.pop());
        popped[1].push(q.pop());
      }
      expect(q.size).toBe(0);
      expect(popped[1]).toEqual(popped[0]);
    }
  });
});
