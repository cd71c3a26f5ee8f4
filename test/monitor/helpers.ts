// Fake ranks for monitor tests: they speak through the shim's own encoder (the addon).
import net from 'node:net';
import { addon } from '../../src/native/addon.js';
import { FrameDecoder } from '../../src/wire/frames.js';
import { decodeEnvelope, type Envelope } from '../../src/wire/messages.js';
import { FUNCTIONS, ROLE_SHIFT } from '../../src/generated/functions.js';

export { addon };

export function fnId(name: string): number {
  const f = FUNCTIONS.find((x) => x.name === name);
  if (!f) throw new Error(`no function ${name}`);
  return f.id;
}

export const fnCode = (name: string, role: number) => fnId(name) | (role << ROLE_SHIFT);

export interface Rec {
  fn: number;
  peer?: number;
  bytes?: number;
  comm?: number;
  alg?: number;
  start?: number;
  duration?: number;
  crossMsgs?: number;
  crossBytes?: number;
}

/** One Batch frame from records (through the C++ encoder). */
export function batchFrame(seq: number, recs: Rec[], extra: { dropped?: number; epoch?: number } = {}): Buffer {
  let t = 0;
  return addon.encodeBatch({
    seq, dropped: extra.dropped ?? 0, epoch: extra.epoch ?? 0,
    fn: Uint32Array.from(recs.map((r) => r.fn)),
    peer: Int32Array.from(recs.map((r) => r.peer ?? -1)),
    bytes: Float64Array.from(recs.map((r) => r.bytes ?? 0)),
    comm: Uint32Array.from(recs.map((r) => r.comm ?? 0)),
    alg: Uint32Array.from(recs.map((r) => r.alg ?? 0)),
    start: Float64Array.from(recs.map((r) => (t = r.start ?? t + 10))),
    duration: Float64Array.from(recs.map((r) => r.duration ?? 5)),
    crossMsgs: Uint32Array.from(recs.map((r) => r.crossMsgs ?? 0)),
    crossBytes: Float64Array.from(recs.map((r) => r.crossBytes ?? 0)),
  });
}

export function helloFrame(job: string, rank: number, size: number, token = ''): Buffer {
  return addon.encodeHello({ job, rank, size, host: `h${rank}`, pid: 1000 + rank, startNs: 1_700_000_000_000_000_000, token, program: './fake' });
}

export function worldCommFrame(size: number, localId = 0, globalId = 1): Buffer {
  return addon.encodeCommDef({ localId, globalId, members: Array.from({ length: size }, (_, i) => i) });
}

/** A client connection that records what the monitor sends back. */
export class FakeRank {
  readonly socket: net.Socket;
  readonly received: Envelope[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder();
  readonly ready: Promise<void>;
  readonly done: Promise<void>;

  constructor(address: string) {
    const path = address.startsWith('unix:') ? address.slice(5) : undefined;
    const m = /^tcp:\/\/(.*):(\d+)$/.exec(address);
    this.socket = path ? net.connect(path) : net.connect(Number(m![2]), m![1] === '0.0.0.0' ? '127.0.0.1' : m![1]);
    this.ready = new Promise((res, rej) => { this.socket.once('connect', () => res()); this.socket.once('error', rej); });
    this.socket.on('error', () => {});
    this.socket.on('data', (d) => { for (const f of this.decoder.push(d)) this.received.push(decodeEnvelope(f)); });
    this.done = new Promise((res) => this.socket.on('close', () => { this.closed = true; res(); }));
  }

  async send(...frames: Buffer[]): Promise<void> {
    await this.ready;
    if (this.closed) return;
    await new Promise<void>((res) => this.socket.write(Buffer.concat(frames), () => res()));
  }

  async end(): Promise<void> {
    this.socket.end();
    await this.done;
  }

  errors(): string[] {
    return this.received.flatMap((e) => (e.kind === 'error' ? [e.error.message] : []));
  }
}

export async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}
