// Ingest at scale: one job of N simulated ranks (a 3-D 7-point stencil plus Allreduce, pattern.ts)
// streamed over real TCP connections into a real monitor process (monitor-host.ts) by W generator
// worker processes (generator.ts), in phases: all N connect, the Hello storm, the batches, Bye.
// Prints the time of each phase, the monitor's ingest rate (per second of wall time and per
// second of its CPU time), its memory for the job, the CPU the generator took, and whether the
// monitor's totals are exactly what was sent (records lost must be 0).
//
//   npx tsc -p tsconfig.json && node dist/bench/scale/run.js [--ranks 16384] [--workers 2]
//       [--batches 2] [--records 4096] [--window 256] [--max-ranks N] [--backlog N] [--hello-timeout-ms MS] [--split]
//       [--report] [--cpu-prof DIR] [--json FILE]
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { compareTotals, expectedTotals } from './check.js';
import { nowMs, procCpuMs, startChild, type HostReply, type WorkerReply, type WorkerSent } from './ipc.js';

export interface ScaleOptions {
  ranks: number;
  workers: number;
  /** batches per rank (0: connections, Hellos and Byes only; the matrix is not asked for) */
  batches: number;
  recordsPerBatch: number;
  /** writes not yet flushed to the kernel, per worker */
  window: number;
  /** the monitor's maxRanks (default: ranks) */
  maxRanks?: number;
  /** listen backlog for the experiment (default: the monitor's own) */
  backlog?: number;
  /** time decode vs aggregation per frame in the monitor */
  split?: boolean;
  /** also build the job's report and check its totals */
  report?: boolean;
  /** the monitor's helloTimeoutMs (default: its own, 30 s) */
  helloTimeoutMs?: number;
  /** write a V8 CPU profile of the monitor process into this directory (node --cpu-prof) */
  cpuProfDir?: string;
  /** give up after this long (ms) */
  timeoutMs?: number;
}

export interface ScaleResult {
  options: ScaleOptions;
  records: number;
  wireBytes: number;
  /** all N connections made (kernel handshake done), and all accepted by the monitor */
  connectSeconds: number;
  acceptSeconds: number;
  connectRetries: number;
  connectFailed: number;
  /** from the first connect to the monitor's last rankHello event (each rank sends its Hello as
   * soon as it is connected, as the shim does) */
  helloSeconds: number;
  /** the monitor's CPU time for the connections and Hellos (+ CommDefs) */
  helloCpuSeconds: number;
  /** first batch written to the job's end (every Bye applied) */
  ingestSeconds: number;
  recordsPerSecond: number;
  monitorCpuSeconds: number;
  /** records per second of the monitor's CPU time (user + system) during ingest */
  recordsPerCpuSecond: number;
  generatorCpuSeconds: number;
  /** the generator's CPU time over the monitor's during ingest */
  generatorToMonitorCpu: number;
  eventLoopUtilization: number;
  memory: { rssMiB: number; heapUsedMiB: number; arrayBuffersMiB: number; afterGcHeapMiB: number | null };
  split: { decodeShare: number; aggregateShare: number; restShare: number; frames: number } | null;
  pairMatrixMs: number;
  reportMs: number | null;
  /** CPU (s) of the monitor process over the whole run (with the checks' queries), from /proc/PID/stat */
  procCpuSeconds: { monitor: number };
  connectionErrors: string[];
  mismatches: string[];
  exact: boolean;
}

/** The IPC messages of a child, awaited by kind. */
class Inbox<M extends { ev: string }> {
  private readonly got: M[] = [];
  private readonly waiting: Array<{ ev: string; resolve: (m: M) => void; reject: (e: Error) => void }> = [];
  private failed: Error | null = null;

  constructor(
    readonly child: ChildProcess,
    readonly name: string,
  ) {
    child.on('message', (m: M) => {
      const i = this.waiting.findIndex((w) => w.ev === m.ev);
      if (i >= 0) this.waiting.splice(i, 1)[0].resolve(m);
      else this.got.push(m);
    });
    // messages sent just before the exit may be delivered after it: wait for them a little
    child.on('exit', (code, sig) =>
      setTimeout(() => {
        this.failed = new Error(`${name} exited (${sig ?? code}) early`);
        for (const w of this.waiting.splice(0)) w.reject(this.failed);
      }, 500).unref(),
    );
  }

  next<E extends M['ev']>(ev: E): Promise<Extract<M, { ev: E }>> {
    const i = this.got.findIndex((m) => m.ev === ev);
    if (i >= 0) return Promise.resolve(this.got.splice(i, 1)[0] as Extract<M, { ev: E }>);
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => this.waiting.push({ ev, resolve: resolve as (m: M) => void, reject }));
  }
}

const MiB = 2 ** 20;

export async function runScale(o: ScaleOptions): Promise<ScaleResult> {
  const N = o.ranks,
    W = Math.max(1, Math.min(o.workers, N));
  const children: ChildProcess[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`scale run timed out after ${o.timeoutMs} ms`)),
        o.timeoutMs ?? 600_000,
      );
    });
    const r = await Promise.race([timeout, phases(o, N, W, children)]);
    // they exit by themselves once done (the monitor's CPU profile is written then)
    await Promise.race([
      Promise.all(children.map((c) => (c.exitCode === null ? new Promise((res) => c.once('exit', res)) : null))),
      new Promise((res) => setTimeout(res, 30_000).unref()),
    ]);
    return r;
  } finally {
    clearTimeout(timer);
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  }
}

async function phases(o: ScaleOptions, N: number, W: number, children: ChildProcess[]): Promise<ScaleResult> {
  const hostChild = startChild('monitor-host', N + 256, [
    '--expose-gc',
    ...(o.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`] : []),
  ]);
  children.push(hostChild);
  const host = new Inbox<HostReply>(hostChild, 'the monitor process');
  hostChild.send({
    cmd: 'init',
    size: N,
    maxRanks: o.maxRanks ?? N,
    backlog: o.backlog,
    split: o.split ?? false,
    report: o.report ?? false,
    matrix: o.batches > 0,
    helloTimeoutMs: o.helloTimeoutMs,
  });
  const { address, cpuMs: listenCpuMs } = await host.next('listening');

  const firsts: number[] = [];
  const workers: Array<Inbox<WorkerReply>> = [];
  for (let w = 0; w < W; w++) {
    const first = Math.floor((w * N) / W),
      count = Math.floor(((w + 1) * N) / W) - first;
    const c = startChild('generator', count + 256);
    children.push(c);
    firsts.push(first);
    workers.push(new Inbox<WorkerReply>(c, `generator worker ${w}`));
    c.send({
      cmd: 'init',
      address,
      job: `scale-${N}`,
      jobKey: 'scale-bench-key-0123456789abcdef',
      size: N,
      first,
      count,
      batches: o.batches,
      recordsPerBatch: o.recordsPerBatch,
      window: o.window,
    });
  }
  await Promise.all(workers.map((w) => w.next('ready')));
  const all = <E extends WorkerReply['ev']>(cmd: string, ev: E): Promise<Array<Extract<WorkerReply, { ev: E }>>> => {
    for (const w of workers) w.child.send({ cmd });
    return Promise.all(workers.map((w) => w.next(ev)));
  };

  // a refused or lost connection fails the run at once (instead of waiting for its time out); a
  // process that exits early fails the message awaited from it
  const never = (): Promise<never> => new Promise<never>(() => undefined);
  const refused = host
    .next('connectionError')
    .catch(never)
    .then((e) => {
      throw new Error(`the monitor refused a connection: ${e.message}`);
    });
  const lost = Promise.race(workers.map((w) => w.next('lost').catch(never))).then((e) => {
    throw new Error(`rank ${e.rank} lost its connection before Bye: ${e.message}`);
  });
  const failed = Promise.race([refused, lost]);
  failed.catch(() => undefined);
  const guard = <T>(p: Promise<T>): Promise<T> => Promise.race([p, failed]);

  const say = (what: string): void =>
    void process.stderr.write(`scale: ${what} at ${((nowMs() - t0) / 1000).toFixed(2)} s\n`);
  const t0 = nowMs();
  const accepted = host.next('accepted');
  const hellos = host.next('hellos');
  const connected = await guard(all('connect', 'connected'));
  say('all connected');
  const hel = await guard(hellos);
  say('all Hellos accepted');
  // every connection has reached the monitor by its Hello; the poll may report it a little later
  const acc = await guard(accepted);
  const t2 = nowMs();
  const jobEnd = host.next('jobEnd');
  const streamed = await guard(all('stream', 'streamed'));
  say('all batches written');
  const closed = await guard(all('bye', 'closed'));
  say('all ranks said Bye and closed');
  const end = await guard(jobEnd);
  say('the job ended');

  const procCpuSeconds = { monitor: (procCpuMs(hostChild.pid!) ?? NaN) / 1000 };
  const sent: WorkerSent[] = closed.map((c) => c.sent);
  const expected = expectedTotals(N, sent, firsts);
  const mismatches = compareTotals(expected, end.totals);
  for (const c of closed)
    if (c.refused) mismatches.push(`the monitor refused ${c.refused} connections: ${c.errors[0]}`);
  const unconnected = connected.reduce((s, c) => s + c.failed, 0);
  if (unconnected) mismatches.push(`${unconnected} ranks could not connect`);

  const records = expected.records;
  const ingestSeconds = (end.t - t2) / 1000;
  const monitorCpuSeconds = (end.cpuMs - hel.cpuMs) / 1000;
  const generatorCpuSeconds = closed.reduce((s, c, i) => s + c.cpuMs - connected[i].cpuMs, 0) / 1000;
  const sp = end.split;
  const cpuMsIngest = end.cpuMs - hel.cpuMs;
  return {
    options: o,
    records,
    wireBytes: streamed.reduce((s, x) => s + x.wireBytes, 0),
    connectSeconds: (Math.max(...connected.map((c) => c.t)) - t0) / 1000,
    acceptSeconds: (acc.t - t0) / 1000,
    connectRetries: connected.reduce((s, c) => s + c.retries, 0),
    connectFailed: unconnected,
    helloSeconds: (hel.t - t0) / 1000,
    helloCpuSeconds: (hel.cpuMs - listenCpuMs) / 1000,
    ingestSeconds,
    recordsPerSecond: records / ingestSeconds,
    monitorCpuSeconds,
    recordsPerCpuSecond: records / monitorCpuSeconds,
    generatorCpuSeconds,
    generatorToMonitorCpu: generatorCpuSeconds / monitorCpuSeconds,
    eventLoopUtilization: end.eventLoopUtilization,
    memory: {
      rssMiB: end.memory.rss / MiB,
      heapUsedMiB: end.memory.heapUsed / MiB,
      arrayBuffersMiB: end.memory.arrayBuffers / MiB,
      afterGcHeapMiB: end.memoryAfterGc ? end.memoryAfterGc.heapUsed / MiB : null,
    },
    split: sp
      ? {
          frames: sp.frames,
          decodeShare: sp.decodeMs / cpuMsIngest,
          aggregateShare: sp.aggregateMs / cpuMsIngest,
          restShare: 1 - (sp.decodeMs + sp.aggregateMs) / cpuMsIngest,
        }
      : null,
    pairMatrixMs: end.totals.pairMatrixMs,
    reportMs: end.totals.report?.ms ?? null,
    procCpuSeconds,
    connectionErrors: end.firstErrors,
    mismatches,
    exact: mismatches.length === 0,
  };
}

export function formatScale(r: ScaleResult): string {
  const o = r.options;
  const M = (x: number) => `${(x / 1e6).toFixed(2)} M`;
  const lines = [
    `scale: one job of ${o.ranks} ranks (3-D 7-point stencil + Allreduce), ${o.workers} generator processes, ` +
      `${o.batches} batches x ${o.recordsPerBatch} records per rank = ${M(r.records)} records ` +
      (r.records ? `(${(r.wireBytes / r.records).toFixed(2)} wire bytes/record)` : '(no batches)'),
    `  connections: all ${o.ranks} connected in ${r.connectSeconds.toFixed(2)} s, accepted by the monitor in ` +
      `${r.acceptSeconds.toFixed(2)} s (${r.connectRetries} retries, ${r.connectFailed} failed)`,
    `  Hello storm: all ${o.ranks} Hellos (+ CommDef of MPI_COMM_WORLD) accepted ${r.helloSeconds.toFixed(2)} s after the first connect ` +
      `(monitor CPU ${r.helloCpuSeconds.toFixed(2)} s)`,
    `  ingest: ${r.ingestSeconds.toFixed(2)} s wall, ${M(r.recordsPerSecond)} records/s; monitor CPU ` +
      `${r.monitorCpuSeconds.toFixed(2)} s = ${M(r.recordsPerCpuSecond)} records per CPU second (goal >= 5 M)`,
    `  generator CPU ${r.generatorCpuSeconds.toFixed(2)} s = ${r.generatorToMonitorCpu.toFixed(2)} x the monitor's; ` +
      `monitor event loop busy ${(100 * r.eventLoopUtilization).toFixed(0)}% of its life`,
    `  monitor memory at the job's end: RSS ${r.memory.rssMiB.toFixed(0)} MiB, heap ${r.memory.heapUsedMiB.toFixed(0)} MiB ` +
      `(${r.memory.afterGcHeapMiB?.toFixed(0) ?? '?'} MiB after GC), array buffers ${r.memory.arrayBuffersMiB.toFixed(0)} MiB`,
  ];
  if (r.split)
    lines.push(
      `  monitor CPU during ingest: decode ${(100 * r.split.decodeShare).toFixed(0)}%, aggregate ` +
        `${(100 * r.split.aggregateShare).toFixed(0)}%, the rest (socket reads, framing, turns, GC) ${(100 * r.split.restShare).toFixed(0)}%`,
    );
  lines.push(
    `  pair matrix query ${r.pairMatrixMs.toFixed(0)} ms${r.reportMs !== null ? `, report ${r.reportMs.toFixed(0)} ms` : ''}`,
    r.exact
      ? `  totals exact: records, functions, ${r.options.report ? 'report, ' : ''}every matrix pair; 0 records lost`
      : `  TOTALS DIFFER:\n    ${r.mismatches.join('\n    ')}`,
  );
  return lines.join('\n');
}

function num(argv: string[], name: string, fallback: number, min = 1): number {
  const i = argv.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(argv[i + 1]);
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} needs an integer >= ${min}`);
  return v;
}

export function parseScaleArgs(argv: string[]): ScaleOptions & { json: string | null } {
  const i = argv.indexOf('--json');
  return {
    ranks: num(argv, '--ranks', 16384),
    workers: num(argv, '--workers', 2),
    batches: num(argv, '--batches', 2, 0),
    recordsPerBatch: num(argv, '--records', 4096),
    window: num(argv, '--window', 256),
    maxRanks: argv.includes('--max-ranks') ? num(argv, '--max-ranks', 0) : undefined,
    backlog: argv.includes('--backlog') ? num(argv, '--backlog', 0) : undefined,
    split: argv.includes('--split'),
    report: argv.includes('--report'),
    helloTimeoutMs: argv.includes('--hello-timeout-ms') ? num(argv, '--hello-timeout-ms', 0) : undefined,
    cpuProfDir: argv.includes('--cpu-prof') ? argv[argv.indexOf('--cpu-prof') + 1] : undefined,
    timeoutMs: num(argv, '--timeout-s', 1200) * 1000,
    json: i >= 0 ? (argv[i + 1] ?? null) : null,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  let opts: ReturnType<typeof parseScaleArgs>;
  try {
    opts = parseScaleArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
  const { json, ...o } = opts;
  runScale(o).then(
    (r) => {
      process.stdout.write(`${formatScale(r)}\n`);
      if (json) writeFileSync(json, `${JSON.stringify(r, null, 1)}\n`);
      process.exit(r.exact ? 0 : 1);
    },
    (e: Error) => {
      process.stderr.write(`scale: ${e.stack ?? e.message}\n`);
      process.exit(1);
    },
  );
}
