// Fuzzer of the monitor's whole input path over real sockets: many connections send Hello,
// CommDef, Batch, Placement and Bye frames in any order, valid or mutated, whole or cut, for
// jobs of random sizes and keys, while flooding clients stream valid batches and a probe client
// measures how long the monitor takes to answer a new connection (an Error frame for a Batch
// before Hello). Reports internal errors (anything but a protocol error), the probe's worst
// latency and the memory growth. Used by test/monitor/fuzz-sockets.test.ts (bounded, fixed seed);
// longer:
//
//   npx tsc -p tsconfig.json && node --expose-gc dist/bench/fuzz-monitor.js --seconds 600 --seed 7 --clients 32 --flood 200
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Role, ROLE_SHIFT, FUNCTIONS } from '../src/generated/functions.js';
import { Monitor, type MonitorOptions } from '../src/monitor/monitor.js';
import { addon } from '../src/native/addon.js';
import { FrameDecoder } from '../src/wire/frames.js';
import { decodeEnvelope, encodeHello, encodePlacement } from '../src/wire/messages.js';

export interface FuzzOptions {
  seconds: number;
  seed: number;
  /** connections sending random streams at the same time */
  clients: number;
  /** connections streaming valid batches as fast as they can */
  flood: number;
  /** interval of the probe (ms) */
  probeEveryMs?: number;
  monitor?: MonitorOptions;
}

export interface FuzzResult {
  connections: number;
  frames: number;
  protocolErrors: number;
  /** errors that are not protocol errors: bugs */
  internalErrors: string[];
  jobsEnded: number;
  probes: number;
  probeMaxMs: number;
  probeP50Ms: number;
  rssStartMB: number;
  rssMaxMB: number;
  heapEndMB: number;
  /** the monitor's event-loop delay (perf_hooks), worst and 99th percentile */
  loopMaxMs: number;
  loopP99Ms: number;
}

export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

const fnCode = (name: string, role: number) => FUNCTIONS.findIndex((f) => f.name === name) | (role << ROLE_SHIFT);
const CODES = [
  fnCode('MPI_Send', Role.Send), fnCode('MPI_Recv', Role.Recv), fnCode('MPI_Allreduce', Role.Coll), fnCode('MPI_Bcast', Role.Coll),
  fnCode('MPI_Alltoallv', Role.PartSend), fnCode('MPI_Get', Role.Pull), fnCode('MPI_Allreduce', Role.Placement), 0xffffff,
];

/** A batch of n random records (peers, sizes, communicators and epochs drawn wide). */
export function randomBatch(rnd: () => number, seq: number, n: number, P: number): Buffer {
  const fn = new Uint32Array(n), peer = new Int32Array(n), bytes = new Float64Array(n), comm = new Uint32Array(n);
  const alg = new Uint32Array(n), start = new Float64Array(n), duration = new Float64Array(n);
  const crossMsgs = new Uint32Array(n), crossBytes = new Float64Array(n);
  let t = 0;
  for (let i = 0; i < n; i++) {
    fn[i] = CODES[Math.floor(rnd() * CODES.length)];
    peer[i] = rnd() < 0.9 ? Math.floor(rnd() * P) : Math.floor(rnd() * 2 ** 31);
    bytes[i] = rnd() < 0.9 ? Math.floor(rnd() * 65536) : Math.floor(rnd() * 2 ** 50);
    comm[i] = rnd() < 0.8 ? Math.floor(rnd() * 3) : Math.floor(rnd() * 2 ** 32);
    alg[i] = Math.floor(rnd() * 3);
    start[i] = t += Math.floor(rnd() * 1e6);
    duration[i] = Math.floor(rnd() * 1e5);
    crossMsgs[i] = Math.floor(rnd() * 2);
    crossBytes[i] = Math.floor(rnd() * 1e4);
  }
  const epoch = rnd() < 0.7 ? 0 : Math.floor(rnd() * (rnd() < 0.5 ? 8 : 2 ** 31));
  return addon.encodeBatch({ seq, dropped: Math.floor(rnd() * 3), epoch, fn, peer, bytes, comm, alg, start, duration, crossMsgs, crossBytes });
}

/** Flips, overwrites, cuts or repeats a few bytes of a frame body. */
export function mutate(body: Buffer, rnd: () => number): Buffer {
  const b = Buffer.from(body);
  const pick = () => Math.floor(rnd() * b.length);
  switch (Math.floor(rnd() * 5)) {
    case 0: for (let k = 0; k < 1 + rnd() * 3; k++) if (b.length) b[pick()] ^= 1 << Math.floor(rnd() * 8); return b;
    case 1: for (let k = 0; k < 1 + rnd() * 3; k++) if (b.length) b[pick()] = Math.floor(rnd() * 256); return b;
    case 2: return b.subarray(0, pick());
    case 3: { const i = pick(); return Buffer.concat([b.subarray(0, i), b.subarray(Math.max(0, i - 8), i), b.subarray(i)]); }
    default: { const i = pick(); return Buffer.concat([b.subarray(0, i), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), b.subarray(i)]); }
  }
}

function withLength(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeUInt32LE(body.length, 0);
  body.copy(out, 4);
  return out;
}

const JOBS = [
  { id: 'fz-small', size: 4, key: 'k-small' }, { id: 'fz-mid', size: 64, key: '' }, { id: 'fz-big', size: 1024, key: 'k-big' },
  { id: 'fz-one', size: 1, key: '' }, { id: 'fz-2k', size: 2048, key: 'k-2k' },
];

/** One random stream: what a confused, broken or hostile rank might send. */
export function randomStream(rnd: () => number): Buffer[] {
  const j = JOBS[Math.floor(rnd() * JOBS.length)];
  const rank = Math.floor(rnd() * (j.size + (rnd() < 0.05 ? 4 : 0)));
  const size = rnd() < 0.95 ? j.size : Math.floor(rnd() * 100000);
  const key = rnd() < 0.9 ? j.key : 'wrong';
  const frames: Buffer[] = [];
  if (rnd() < 0.95) frames.push(encodeHello({ job: j.id, rank, size, host: `h${rank}`, pid: 1, startNs: 1n, jobKey: key }).subarray(4));
  const n = Math.floor(rnd() * 12);
  let seq = 0;
  for (let i = 0; i < n; i++) {
    const x = rnd();
    if (x < 0.5) frames.push(randomBatch(rnd, rnd() < 0.8 ? seq++ : Math.floor(rnd() * 2 ** 31), 1 + Math.floor(rnd() * 200), j.size).subarray(4));
    else if (x < 0.7) {
      const members = Array.from({ length: Math.min(j.size, 1 + Math.floor(rnd() * 64)) }, (_, k) => (rnd() < 0.97 ? k : Math.floor(rnd() * 2 ** 31)));
      const localId = rnd() < 0.7 ? Math.floor(rnd() * 3) : Math.floor(rnd() * 2 ** 32);
      frames.push(addon.encodeCommDef({ localId, globalId: Math.floor(rnd() * 100), members }).subarray(4));
    } else if (x < 0.8) {
      const siteOf = Array.from({ length: j.size }, () => Math.floor(rnd() * 3));
      frames.push(encodePlacement({ epoch: Math.floor(rnd() * 5), sites: ['a', 'b', 'c'], siteOf }).subarray(4));
    } else if (x < 0.9) frames.push(addon.encodeBye({ endNs: Math.floor(rnd() * 1e9), records: Math.floor(rnd() * 1e4), dropped: 0, mpiNs: 5 }).subarray(4));
    else frames.push(Buffer.from(Array.from({ length: Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256))));
  }
  for (let k = 0; k < frames.length; k++) if (rnd() < 0.15) frames[k] = mutate(frames[k], rnd);
  if (rnd() < 0.1) frames.reverse();
  return frames;
}

function connect(addr: string): net.Socket {
  const m = /^tcp:\/\/(.*):(\d+)$/.exec(addr)!;
  const s = net.connect(Number(m[2]), m[1]);
  s.on('error', () => {});
  return s;
}

/** Time (ms) until the monitor answers a Batch before Hello with an Error frame. */
function probe(addr: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const s = connect(addr);
    const dec = new FrameDecoder();
    const done = (ms: number) => { clearTimeout(timer); s.destroy(); resolve(ms); };
    const timer = setTimeout(() => done(timeoutMs), timeoutMs);
    s.on('connect', () => s.write(randomBatch(rng(1), 0, 1, 2)));
    s.on('data', (d) => {
      for (const f of dec.push(d)) if (decodeEnvelope(f).kind === 'error') done(Number(process.hrtime.bigint() - t0) / 1e6);
    });
  });
}

const gc = (globalThis as { gc?: () => void }).gc;

export async function fuzzMonitor(o: FuzzOptions): Promise<FuzzResult> {
  const rnd = rng(o.seed);
  const monitor = new Monitor({ lingerMs: 500, joinWindowMs: 1000, helloTimeoutMs: 2000, ...o.monitor });
  const res: FuzzResult = {
    connections: 0, frames: 0, protocolErrors: 0, internalErrors: [], jobsEnded: 0, probes: 0, probeMaxMs: 0, probeP50Ms: 0,
    rssStartMB: 0, rssMaxMB: 0, heapEndMB: 0, loopMaxMs: 0, loopP99Ms: 0,
  };
  monitor.on('connectionError', (ev) => {
    if (ev.error.name === 'WireError' || ev.error.name === 'ProtocolError') res.protocolErrors++;
    else if (res.internalErrors.length < 20) res.internalErrors.push(`${ev.error.name}: ${ev.error.message}`);
  });
  monitor.on('jobEnd', (job) => {
    res.jobsEnded++;
    // what a report asks of every job: must neither throw nor hold the loop past the bounds
    job.functions(); job.epochs(); job.histogramPairs(); void job.limitNotes;
  });
  const [addr0] = await monitor.listen('tcp://127.0.0.1:0');
  const addr = addr0.replace('0.0.0.0', '127.0.0.1');
  gc?.();
  res.rssStartMB = process.memoryUsage().rss / 2 ** 20;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const deadline = Date.now() + o.seconds * 1000;
  let stop = false;

  const client = async (): Promise<void> => {
    while (!stop && Date.now() < deadline) {
      const frames = randomStream(rnd);
      const bytes = Buffer.concat(frames.map(withLength));
      // sometimes a partial frame at the end, sometimes sent in small pieces
      const cut = rnd() < 0.1 ? Math.floor(rnd() * bytes.length) : bytes.length;
      const s = connect(addr);
      res.connections++;
      res.frames += frames.length;
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => s.destroy(), 50 + rnd() * 300);
        s.on('close', () => { clearTimeout(t); resolve(); });
        s.on('connect', () => {
          const piece = rnd() < 0.3 ? 1 + Math.floor(rnd() * 64) : cut;
          for (let i = 0; i < cut; i += piece) s.write(bytes.subarray(i, Math.min(cut, i + piece)));
          if (rnd() < 0.7) s.end();
        });
      });
    }
  };

  // flooding clients run in a process of their own (their CPU is not the monitor's)
  const flooders = (): Promise<void> => new Promise((resolve) => {
    if (o.flood <= 0) { resolve(); return; }
    const here = fileURLToPath(import.meta.url);
    const ts = here.endsWith('.ts');
    const script = path.join(path.dirname(here), ts ? 'flood-clients.ts' : 'flood-clients.js');
    const argv = [script, addr, String(o.flood), String(Math.max(1, (deadline - Date.now()) / 1000)), String(o.seed)];
    const child = ts ? spawn(path.join(path.dirname(here), '..', 'node_modules', '.bin', 'vite-node'), argv, { stdio: 'inherit' })
      : spawn(process.execPath, argv, { stdio: 'inherit' });
    child.on('exit', () => resolve());
    child.on('error', () => resolve());
  });

  const latencies: number[] = [];
  const prober = async (): Promise<void> => {
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, o.probeEveryMs ?? 250));
      const ms = await probe(addr, 10_000);
      latencies.push(ms);
      res.rssMaxMB = Math.max(res.rssMaxMB, process.memoryUsage().rss / 2 ** 20);
    }
  };

  await Promise.all([
    ...Array.from({ length: o.clients }, client),
    flooders(),
    prober(),
  ]);
  stop = true;
  loop.disable();
  res.loopMaxMs = loop.max / 1e6;
  res.loopP99Ms = loop.percentile(99) / 1e6;
  await monitor.close();
  gc?.();
  res.heapEndMB = process.memoryUsage().heapUsed / 2 ** 20;
  latencies.sort((a, b) => a - b);
  res.probes = latencies.length;
  res.probeMaxMs = latencies.length ? latencies[latencies.length - 1] : 0;
  res.probeP50Ms = latencies.length ? latencies[Math.floor(latencies.length / 2)] : 0;
  return res;
}

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

if (process.argv[1]?.endsWith('fuzz-monitor.js')) {
  const o = { seconds: arg('--seconds', 60), seed: arg('--seed', 1), clients: arg('--clients', 16), flood: arg('--flood', 0) };
  fuzzMonitor(o).then((r) => {
    process.stdout.write(JSON.stringify({ options: o, ...r }, null, 1) + '\n');
    process.exitCode = r.internalErrors.length ? 1 : 0;
  }, (e: Error) => { process.stderr.write(`fuzz-monitor: ${e.stack}\n`); process.exitCode = 2; });
}
