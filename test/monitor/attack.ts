// Attack clients for the hardening tests: they speak the real protocol (the TS encoders, which
// carry Hello.job_key, and the shim's encoder for the rest) and measure how the monitor answers.
import net from 'node:net';
import { encodeHello, type Hello } from '../../src/wire/messages.js';
import { FakeRank } from './helpers.js';

export { FakeRank };

/** A Hello frame with a job key (the addon's encoder may not carry one). */
export function keyedHello(job: string, rank: number, size: number, jobKey = '', extra: Partial<Hello> = {}): Buffer {
  return encodeHello({
    job,
    rank,
    size,
    host: `h${rank}`,
    pid: 1000 + rank,
    startNs: 1_700_000_000_000_000_000n,
    jobKey,
    ...extra,
  });
}

/** A raw 4-byte length header followed by `body` bytes (a frame that may never complete). */
export function partialFrame(announced: number, body: number): Buffer {
  const b = Buffer.alloc(4 + body);
  b.writeUInt32LE(announced, 0);
  return b;
}

function hostPort(addr: string): [number, string] {
  const m = /^tcp:\/\/(.*):(\d+)$/.exec(addr)!;
  return [Number(m[2]), m[1] === '0.0.0.0' ? '127.0.0.1' : m[1]];
}

/** A connection that sends bytes and never anything else (kept open until destroyed). */
export function rawClient(addr: string, bytes: Buffer): { socket: net.Socket; closed: Promise<void> } {
  const socket = net.connect(...hostPort(addr));
  socket.on('error', () => {});
  socket.on('data', () => {}); // read what the monitor says, so that its close is seen
  socket.on('connect', () => socket.write(bytes));
  const closed = new Promise<void>((res) => socket.on('close', () => res()));
  return { socket, closed };
}

/** Milliseconds until a new connection is answered (an Error frame for a frame before Hello). */
export async function probeMs(addr: string, timeoutMs = 10_000): Promise<number> {
  const t0 = performance.now();
  const c = new FakeRank(addr);
  await c.send(keyedHello('x', 0, 1).subarray(0, 0), Buffer.from([2, 0, 0, 0, 0x12, 0x00])); // an empty Batch, no Hello
  const deadline = t0 + timeoutMs;
  while (c.errors().length === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 1));
  const ms = performance.now() - t0;
  c.socket.destroy();
  return ms;
}
