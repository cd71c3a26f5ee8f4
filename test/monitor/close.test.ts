// Monitor.close() with a connection rejected while it waited for its turn (paused behind a flood of
// its own frames) whose peer then went away: the paused socket never reads the peer's FIN, so
// close() must end it itself. Before it did, the servers' close waited on that socket, and a
// process with nothing else to do exited with close() unresolved (the fuzz bench printed nothing).
import { describe, expect, it, vi } from 'vitest';
import { Role } from '../../src/generated/facts.js';
import { Monitor } from '../../src/monitor/monitor.js';
import { rawClient } from './attack.js';
import { batchFrame, fnCode, helloFrame, worldCommFrame } from './helpers.js';

/** Resolves after `ms` of real time without timers (setTimeout is faked here). */
async function realWait(ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) await new Promise((r) => setImmediate(r));
}

describe('Monitor.close()', () => {
  it('ends a connection rejected while paused for its turn, its peer gone', async () => {
    // Only close() may end the socket: the rejected socket's own destroy timer (1 s) never fires.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const m = new Monitor({ helloTimeoutMs: 0 });
      const errors: string[] = [];
      m.on('connectionError', (ev) => errors.push(ev.error.message));
      const [addr] = await m.listen('tcp://127.0.0.1:0');
      const recs = Array.from({ length: 400 }, () => ({ fn: fnCode('MPI_Send', Role.Send), peer: 0, bytes: 8 }));
      const frames = [helloFrame('flood', 0, 1), worldCommFrame(1)];
      for (let seq = 1; seq <= 300; seq++) frames.push(batchFrame(seq, recs));
      frames.push(Buffer.from([4, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])); // a frame no decoder accepts
      // more behind it than the paused socket buffers: its FIN stays unread in the kernel
      for (let seq = 301; seq <= 600; seq++) frames.push(batchFrame(seq, recs));
      const client = rawClient(addr, Buffer.concat(frames));
      await client.closed; // the Error frame and the monitor's FIN arrived; the client closed
      expect(errors).toHaveLength(1);
      const closed = await Promise.race([m.close().then(() => true), realWait(5000).then(() => false)]);
      expect(closed).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  }, 30_000);
});
