// Fuzzer of the monitor's whole input path over real sockets: many connections send Hello,
// CommDef, Batch, Placement and Bye frames in any order, valid or mutated, whole or cut, for
// jobs of random sizes and keys, while flooding clients stream valid batches and a probe (a
// process of its own, fuzz-probe.ts) measures how long the monitor takes to answer a new
// connection (an Error frame for a Batch before Hello). Reports internal errors (anything but a
// protocol error), the probe's worst
// latency and the memory growth. Used by test/monitor/fuzz.test.ts (bounded, fixed seed);
// longer:
//
//   npx tsc -p tsconfig.json && node --expose-gc dist/bench/fuzz-monitor.js --seconds 600 --seed 7 --clients 32 --flood 200
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Monitor, type MonitorOptions } from '../src/monitor/monitor.js';

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

  // the clients and the probe run in processes of their own (their CPU and event loops are not
  // the monitor's)
  const child = (name: string, argv: string[]): Promise<string> =>
    new Promise((resolve) => {
      const here = fileURLToPath(import.meta.url);
      const ts = here.endsWith('.ts');
      const script = path.join(path.dirname(here), ts ? `${name}.ts` : `${name}.js`);
      const proc = ts
        ? spawn(path.join(path.dirname(here), '..', 'node_modules', '.bin', 'vite-node'), [script, ...argv], {
            stdio: ['ignore', 'pipe', 'inherit'],
          })
        : spawn(process.execPath, [script, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
      });
      proc.on('exit', () => resolve(out.trim().split('\n').pop() || '{}'));
      proc.on('error', () => resolve('{}'));
    });
  const lastJson = (out: string): Record<string, unknown> => {
    try {
      return JSON.parse(out) as Record<string, unknown>;
    } catch {
      return {}; // no stats
    }
  };
  const seconds = String(Math.max(1, (deadline - Date.now()) / 1000));
  const clients = child('fuzz-clients', [addr, String(o.clients), String(o.flood), seconds, String(o.seed)]);
  const prober = child('fuzz-probe', [addr, seconds, String(o.probeEveryMs ?? 250)]);
  const rss = setInterval(() => {
    res.rssMaxMB = Math.max(res.rssMaxMB, process.memoryUsage().rss / 2 ** 20);
  }, 250);

  const [clientStats, probeOut] = await Promise.all([clients, prober]);
  clearInterval(rss);
  Object.assign(res, lastJson(clientStats));
  const latencies = ((lastJson(probeOut).latenciesMs as number[] | undefined) ?? []).slice();
  loop.disable();
  res.loopMaxMs = loop.max / 1e6;
  res.loopP99Ms = loop.percentile(99) / 1e6;
  // close() must resolve; one waiting on a socket that no event will wake leaves the event loop
  // empty, and this process would exit without a result ('beforeExit' says so instead)
  let stranded: (() => void) | undefined;
  const closed = await Promise.race([
    monitor.close().then(() => true),
    new Promise<false>((res) => process.once('beforeExit', (stranded = () => res(false)))),
  ]);
  if (stranded) process.off('beforeExit', stranded);
  if (!closed) res.internalErrors.push('Monitor.close() never resolved: it waits on a socket no event wakes');
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
