// Fake ranks for monitor and placement tests: frames built by the shim's own encoder (the addon),
// and a client connection that keeps what the monitor sends back.
import net from 'node:net';

import { FUNCTIONS, ROLE_SHIFT } from '../../src/generated/functions.js';
import { addon } from '../../src/native/addon.js';
import { FrameDecoder } from '../../src/wire/frames.js';

export { addon };

export function fnId(name: string): number {
  const f = FUNCTIONS.find((x) => x.name === name);
  if (!f) throw new Error(`no function ${name}`);
  return f.id;
}

/** The record code of a function in a role (what the shim writes in a record's fn column). */
export const fnCode = (name: string, role: number): number => fnId(name) | (role << ROLE_SHIFT);

export interface Rec {
  fn: number;
  peer?: number;
  bytes?: number;
  comm?: number;
  alg?: number;
  /** ns; absent: 10 ns after the previous record's start */
  start?: number;
  duration?: number;
  crossMsgs?: number;
  crossBytes?: number;
  tag?: number;
}

/** One Batch frame from records (through the C++ encoder). */
export function batchFrame(seq: number, recs: Rec[], extra: { dropped?: number; epoch?: number } = {}): Buffer {
  let t = 0;
  return addon.encodeBatch({
    seq,
    dropped: extra.dropped ?? 0,
    epoch: extra.epoch ?? 0,
    fn: Uint32Array.from(recs.map((r) => r.fn)),
    peer: Int32Array.from(recs.map((r) => r.peer ?? -1)),
    bytes: Float64Array.from(recs.map((r) => r.bytes ?? 0)),
    comm: Uint32Array.from(recs.map((r) => r.comm ?? 0)),
    alg: Uint32Array.from(recs.map((r) => r.alg ?? 0)),
    start: Float64Array.from(recs.map((r) => (t = r.start ?? t + 10))),
    duration: Float64Array.from(recs.map((r) => r.duration ?? 5)),
    crossMsgs: Uint32Array.from(recs.map((r) => r.crossMsgs ?? 0)),
    crossBytes: Float64Array.from(recs.map((r) => r.crossBytes ?? 0)),
    tag: Uint32Array.from(recs.map((r) => r.tag ?? 0)),
  });
}

export function helloFrame(job: string, rank: number, size: number, token = '', host = `h${rank}`): Buffer {
  return addon.encodeHello({
    job,
    rank,
    size,
    host,
    pid: 1000 + rank,
    startNs: 1_700_000_000_000_000_000,
    token,
    program: './fake',
  });
}

/** A client connection to a monitor that keeps every frame it receives, decoded by `decode`. */
export class RankConnection<T> {
  readonly socket: net.Socket;
  readonly received: T[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder();
  readonly ready: Promise<void>;
  readonly done: Promise<void>;

  /** `address`: unix:PATH or tcp://HOST:PORT, as the monitor's listen() returns it. */
  constructor(address: string, decode: (frame: Uint8Array) => T) {
    const path = address.startsWith('unix:') ? address.slice(5) : undefined;
    const m = /^tcp:\/\/(.*):(\d+)$/.exec(address);
    this.socket = path ? net.connect(path) : net.connect(Number(m![2]), m![1] === '0.0.0.0' ? '127.0.0.1' : m![1]);
    this.ready = new Promise((res, rej) => {
      this.socket.once('connect', () => res());
      this.socket.once('error', rej);
    });
    this.socket.on('error', () => {});
    this.socket.on('data', (d) => {
      for (const f of this.decoder.push(d)) this.received.push(decode(f));
    });
    this.done = new Promise((res) =>
      this.socket.on('close', () => {
        this.closed = true;
        res();
      }),
    );
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
}

export async function until(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
