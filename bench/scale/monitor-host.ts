// The monitor process of the scale benchmark: the Monitor library alone in a process (its CPU and
// memory are the monitor's), listening on 127.0.0.1; tells the driver (run.ts) over IPC when all
// ranks are accepted and have said Hello, and at the job's end its CPU time, memory and totals
// (from the job's profile and, asked, its report) for the check against what the generator sent.
import net from 'node:net';
import { performance } from 'node:perf_hooks';

import { Session } from '../../src/monitor/ingest.js';
import type { JobProfile } from '../../src/monitor/job.js';
import { Monitor } from '../../src/monitor/monitor.js';
import { jobReportAsync } from '../../src/report/report.js';
import { decodeEnvelope, type BatchScratch } from '../../src/wire/messages.js';
import { cpuMs, nowMs, type HostInit, type HostReply, type HostTotals, type Memory } from './ipc.js';

/** Sends to the driver; resolves once the message is on its way (before this process may exit). */
const send = (m: HostReply): Promise<void> => new Promise((res) => process.send!(m, undefined, undefined, () => res()));
const memory = (): Memory => {
  const u = process.memoryUsage();
  return { rss: u.rss, heapUsed: u.heapUsed, arrayBuffers: u.arrayBuffers, external: u.external };
};

/** For the experiment only: listen with a larger accept queue than Node's default (511). */
function setBacklog(backlog: number): void {
  const listen = net.Server.prototype.listen as (...a: unknown[]) => net.Server;
  net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
    // listenOn calls listen(port, host, callback)
    if (typeof args[0] === 'number' && typeof args[1] === 'string' && typeof args[2] === 'function')
      return listen.call(this, args[0], args[1], backlog, args[2]);
    return listen.apply(this, args);
  } as typeof net.Server.prototype.listen;
}

/** CPU time (user + system) of decode and of aggregation of every frame (Session.frame is decode,
 * then apply); CPU, not wall time: on a loaded machine the process is often not running. */
function splitTiming(): { frames: number; decodeMs: number; aggregateMs: number } {
  const split = { frames: 0, decodeMs: 0, aggregateMs: 0 };
  Session.prototype.frame = function (this: Session, body: Uint8Array) {
    const t0 = cpuMs();
    const env = decodeEnvelope(body, (this as unknown as { scratch: BatchScratch }).scratch);
    const t1 = cpuMs();
    this.apply(env);
    split.frames++;
    split.decodeMs += t1 - t0;
    split.aggregateMs += cpuMs() - t1;
    return env;
  };
  return split;
}

async function totals(job: JobProfile, init: HostInit): Promise<HostTotals> {
  const t0 = performance.now();
  const pm = init.matrix ? job.pairMatrix() : null;
  const n = pm?.pairCount ?? 0;
  const pairs = {
    src: new Int32Array(n),
    dst: new Int32Array(n),
    bytes: new Float64Array(n),
    messages: new Float64Array(n),
  };
  let k = 0;
  pm?.forEach((s, d, b, m) => {
    pairs.src[k] = s;
    pairs.dst[k] = d;
    pairs.bytes[k] = b;
    pairs.messages[k++] = m;
  });
  const out: HostTotals = {
    records: job.records,
    ranksSeen: job.ranksSeen,
    ranksFinished: job.ranksFinished,
    endReason: job.endReason,
    losses: job.losses,
    unexpandedCollectives: job.unexpandedCollectives,
    limitNotes: job.limitNotes,
    functions: job.functions().map((f) => ({ name: f.name, id: f.id, count: f.count, bytes: f.bytes })),
    pairs,
    totalBytes: (pm?.totalBytes() ?? 0n).toString(),
    totalMessages: (pm?.totalMessages() ?? 0n).toString(),
    pairMatrixMs: performance.now() - t0,
  };
  if (init.report) {
    const r0 = performance.now();
    const r = await jobReportAsync(job, { histograms: false });
    out.report = {
      ms: performance.now() - r0,
      records: r.records,
      dropped: r.dropped,
      functions: r.functions.map((f) => ({ name: f.name, count: f.count, bytes: f.bytes })),
      topPairs: r.topPairs,
    };
  }
  return out;
}

function start(init: HostInit): void {
  if (init.backlog) setBacklog(init.backlog);
  const split = init.split ? splitTiming() : null;
  const monitor = new Monitor({
    maxRanks: init.maxRanks,
    lingerMs: 60_000,
    joinWindowMs: 120_000,
    ...(init.helloTimeoutMs !== undefined ? { helloTimeoutMs: init.helloTimeoutMs } : {}),
  });
  let hellos = 0,
    connectionErrors = 0;
  const firstErrors: string[] = [];
  monitor.on('connectionError', (ev) => {
    const message = `${ev.remote} rank ${ev.rank ?? '?'}: ${ev.error.message}`;
    if (connectionErrors++ === 0) void send({ ev: 'connectionError', message });
    if (firstErrors.length < 10) firstErrors.push(message);
  });
  monitor.on('rankHello', () => {
    if (++hellos === init.size) void send({ ev: 'hellos', t: nowMs(), cpuMs: cpuMs() });
  });
  const elu0 = performance.eventLoopUtilization();
  monitor.on('jobEnd', (job) => {
    const t = nowMs(),
      cpu = cpuMs();
    const mem = memory();
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const memoryAfterGc = gc ? memory() : null;
    const elu = performance.eventLoopUtilization(elu0).utilization;
    void totals(job, init).then(async (tot) => {
      await send({
        ev: 'jobEnd',
        t,
        cpuMs: cpu,
        memory: mem,
        memoryAfterGc,
        split,
        eventLoopUtilization: elu,
        connectionErrors,
        firstErrors,
        totals: tot,
      });
      void monitor.close().then(() => process.disconnect());
    });
  });
  void monitor.listen('tcp://127.0.0.1:0').then(([address]) => {
    void send({ ev: 'listening', address, cpuMs: cpuMs() });
    // accepted: every rank's connection has reached the monitor (not only the kernel's queue)
    const poll = setInterval(() => {
      if (monitor.connectionCount >= init.size) {
        clearInterval(poll);
        void send({ ev: 'accepted', t: nowMs(), cpuMs: cpuMs() });
      }
    }, 5);
  });
}

process.on('message', (m: HostInit) => {
  if (m.cmd === 'init') start(m);
});
process.on('disconnect', () => process.exit(0));
