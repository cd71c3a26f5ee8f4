// Fake ranks for placement tests: they speak through the shim's own encoder (the addon) and read
// what the monitor sends back with the shim's own decoder (addon.decodeEnvelope).
import net from 'node:net';
import { Role } from '../../src/generated/functions.js';
import { FUNCTIONS, ROLE_SHIFT } from '../../src/generated/functions.js';
import { addon } from '../../src/native/addon.js';
import { FrameDecoder } from '../../src/wire/frames.js';

export { addon };

export const fnCode = (name: string, role: number): number => {
  const f = FUNCTIONS.find((x) => x.name === name);
  if (!f) throw new Error(`no function ${name}`);
  return f.id | (role << ROLE_SHIFT);
};
export const SEND = fnCode('MPI_Send', Role.Send);

export interface Received {
  at: number;
  kind: string;
  epoch?: number;
  sites?: string[];
  siteOf?: number[];
  message?: string;
}

export interface Rec {
  fn: number;
  peer?: number;
  bytes?: number;
  start: number;
  duration: number;
}

/** One Batch frame (through the C++ encoder). */
export function batch(seq: number, recs: Rec[], epoch = 0): Buffer {
  return addon.encodeBatch({
    seq, dropped: 0, epoch,
    fn: Uint32Array.from(recs.map((r) => r.fn)),
    peer: Int32Array.from(recs.map((r) => r.peer ?? -1)),
    bytes: Float64Array.from(recs.map((r) => r.bytes ?? 0)),
    comm: new Uint32Array(recs.length),
    alg: new Uint32Array(recs.length),
    start: Float64Array.from(recs.map((r) => r.start)),
    duration: Float64Array.from(recs.map((r) => r.duration)),
  });
}

/**
 * Records of `seconds` of run (ns times) in which this rank sends `bytesPerSecond` to `peer`, in
 * 100 messages per second, spending `mpiFraction` of the time in MPI.
 */
export function traffic(peer: number, seconds: number, bytesPerSecond: number, mpiFraction: number, from = 0): Rec[] {
  const out: Rec[] = [];
  const n = Math.max(1, Math.round(seconds * 100));
  const step = 1e9 / 100;
  for (let i = 0; i < n; i++) {
    out.push({ fn: SEND, peer, bytes: Math.round(bytesPerSecond / 100), start: from + i * step, duration: Math.round(step * mpiFraction) });
  }
  return out;
}

/** A rank connection that records what the monitor sends back, decoded by the shim's decoder. */
export class FakeRank {
  readonly socket: net.Socket;
  readonly received: Received[] = [];
  closed = false;
  private readonly decoder = new FrameDecoder();
  readonly ready: Promise<void>;
  readonly done: Promise<void>;
  helloAt = 0;
  seq = 0;

  constructor(address: string, readonly job: string, readonly rank: number, readonly size: number, readonly host = `h${rank}`) {
    const path = address.startsWith('unix:') ? address.slice(5) : undefined;
    const m = /^tcp:\/\/(.*):(\d+)$/.exec(address);
    this.socket = path ? net.connect(path) : net.connect(Number(m![2]), m![1] === '0.0.0.0' ? '127.0.0.1' : m![1]);
    this.ready = new Promise((res, rej) => { this.socket.once('connect', () => res()); this.socket.once('error', rej); });
    this.socket.on('error', () => {});
    this.socket.on('data', (d) => {
      for (const f of this.decoder.push(d)) this.received.push({ at: Date.now(), ...addon.decodeEnvelope(f) });
    });
    this.done = new Promise((res) => this.socket.on('close', () => { this.closed = true; res(); }));
  }

  async send(...frames: Buffer[]): Promise<void> {
    await this.ready;
    if (this.closed) return;
    await new Promise<void>((res) => this.socket.write(Buffer.concat(frames), () => res()));
  }

  async hello(): Promise<void> {
    this.helloAt = Date.now();
    await this.send(addon.encodeHello({ job: this.job, rank: this.rank, size: this.size, host: this.host, pid: 1000 + this.rank, startNs: 1_700_000_000_000_000_000, token: '', program: './fake' }));
  }

  async records(recs: Rec[], epoch = this.latestEpoch()): Promise<void> {
    await this.send(batch(this.seq++, recs, epoch));
  }

  async bye(endNs: number, records: number, mpiNs: number): Promise<void> {
    await this.send(addon.encodeBye({ endNs, records, dropped: 0, mpiNs }));
  }

  placements(): Received[] {
    return this.received.filter((r) => r.kind === 'placement');
  }

  latestEpoch(): number {
    const p = this.placements();
    return p.length ? p[p.length - 1].epoch! : 0;
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

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
