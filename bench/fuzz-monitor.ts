// Fuzzer of the monitor's whole input path over real sockets: many connections send Hello,
// CommDef, Batch, Placement and Bye frames in any order, valid or mutated, whole or cut, for
// jobs of random sizes and keys, while flooding clients stream valid batches and a probe client
// measures how long the monitor takes to answer a new connection (an Error frame for a Batch
// before Hello). Reports internal errors (anything but a protocol error), the probe's worst
// latency and the memory growth. Used by test/monitor/fuzz.test.ts (bounded, fixed seed);
// longer:
//
//   npx tsc -p tsconfig.json && node --expose-gc dist/bench/fuzz-monitor.js --seconds 600 --seed 7 --clients 32 --flood 200
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Monitor, type MonitorOptions } from '../src/monitor/monitor.js';
import { FrameDecoder } from '../src/wire/frames.js';
import { decodeEnvelope } from '../src/wire/messages.js';
import { randomBatch } from './fuzz-streams.js';
import { rng } from './records.js';

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
    const done = (ms: number) => {
      clearTimeout(timer);
      s.destroy();
      resolve(ms);
    };
    const timer = setTimeout(() => done(timeoutMs), timeoutMs);
    s.on('connect', () => s.write(randomBatch(rng(1), 0, 1, 2)));
    s.on('data', (d) => {
      for (const f of dec.push(d))
        if (decodeEnvelope(f).kind === 'error') done(Number(process.hrtime.bigint() - t0) / 1e6);
    });
  });
}

const gc = (globalThis as { gc?: () => void }).gc;

export async function fuzzMonitor(o: FuzzOptions): Promise<FuzzResult> {
  const monitor = new Monitor({ lingerMs: 500, joinWindowMs: 1000, helloTimeoutMs: 2000, ...o.monitor });
  const res: FuzzResult = {
    connections: 0,
    frames: 0,
    protocolErrors: 0,
    internalErrors: [],
    jobsEnded: 0,
    probes: 0,
    probeMaxMs: 0,
    probeP50Ms: 0,
    rssStartMB: 0,
    rssMaxMB: 0,
    heapEndMB: 0,
    loopMaxMs: 0,
    loopP99Ms: 0,
  };
  monitor.on('connectionError', (ev) => {
    if (ev.error.name === 'WireError' || ev.error.name === 'ProtocolError') res.protocolErrors++;
    else if (res.internalErrors.length < 20) res.internalErrors.push(`${ev.error.name}: ${ev.error.message}`);
  });
  monitor.on('jobEnd', (job) => {
    res.jobsEnded++;
    // what a report asks of every job, after the time-sliced expansion a report starts with
    // (render: job.prepare()): must neither throw nor hold the loop past the bounds
    void job.prepare().then(() => {
      job.functions();
      job.epochs();
      job.histogramPairs();
      void job.limitNotes;
    });
  });
  const [addr0] = await monitor.listen('tcp://127.0.0.1:0');
  const addr = addr0.replace('0.0.0.0', '127.0.0.1');
  gc?.();
  res.rssStartMB = process.memoryUsage().rss / 2 ** 20;
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const deadline = Date.now() + o.seconds * 1000;

  // the clients run in a process of their own (their CPU is not the monitor's)
  const clients = (): Promise<void> =>
    new Promise((resolve) => {
      const here = fileURLToPath(import.meta.url);
      const ts = here.endsWith('.ts');
      const script = path.join(path.dirname(here), ts ? 'fuzz-clients.ts' : 'fuzz-clients.js');
      const argv = [
        script,
        addr,
        String(o.clients),
        String(o.flood),
        String(Math.max(1, (deadline - Date.now()) / 1000)),
        String(o.seed),
      ];
      const child = ts
        ? spawn(path.join(path.dirname(here), '..', 'node_modules', '.bin', 'vite-node'), argv, {
            stdio: ['ignore', 'pipe', 'inherit'],
          })
        : spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.on('exit', () => {
        try {
          Object.assign(res, JSON.parse(out.trim().split('\n').pop() || '{}'));
        } catch {
          /* no stats */
        }
        resolve();
      });
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

  await Promise.all([clients(), prober()]);
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
  const o = {
    seconds: arg('--seconds', 60),
    seed: arg('--seed', 1),
    clients: arg('--clients', 16),
    flood: arg('--flood', 0),
  };
  fuzzMonitor(o).then(
    (r) => {
      process.stdout.write(JSON.stringify({ options: o, ...r }, null, 1) + '\n');
      process.exitCode = r.internalErrors.length ? 1 : 0;
    },
    (e: Error) => {
      process.stderr.write(`fuzz-monitor: ${e.stack}\n`);
      process.exitCode = 2;
    },
  );
}
