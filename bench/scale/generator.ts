// One generator worker of the scale benchmark: plays ranks first .. first+count-1 of one job, each
// a TCP connection to the monitor speaking the shim's protocol (frames from the shim's own encoder,
// the addon), step by step as the driver (run.ts) commands over IPC: connect all, each sending its
// Hello (with the job key, as the shim sends it) and the CommDef of MPI_COMM_WORLD as soon as it is
// connected, as the shim does; then stream the batches; then Bye.
import net from 'node:net';

import { addon } from '../../src/native/addon.js';
import { batchColumns } from '../records.js';
import { cpuMs, nowMs, type WorkerCommand, type WorkerInit, type WorkerReply, type WorkerSent } from './ipc.js';
import { fillBatch, gridDims, rankTotals, stepTemplate, WORLD_LOCAL_ID, type StepTemplate } from './pattern.js';

/** Sends to the driver; resolves once the message is on its way (before this process may exit). */
const send = (m: WorkerReply): Promise<void> =>
  new Promise((res) => process.send!(m, undefined, undefined, () => res()));

/** Connect attempts per rank before it counts as failed (a full accept queue drops SYNs: the
 * kernel retries those by itself; refused or reset connections are retried here). */
const CONNECT_ATTEMPTS = 20;

interface RankConn {
  rank: number;
  socket: net.Socket | null;
  template: StepTemplate;
}

let init: WorkerInit;
let ranks: RankConn[] = [];
let refused = 0;
const errors: string[] = [];
let closing = false;
let wireBytes = 0,
  frames = 0;

function connectOne(
  r: RankConn,
  host: string,
  port: number,
  hello: (r: RankConn) => Buffer,
): Promise<{ retries: number; ok: boolean }> {
  return new Promise((resolve) => {
    let attempt = 0;
    const go = (): void => {
      attempt++;
      const s = net.connect({ port, host });
      s.setNoDelay(true);
      s.once('connect', () => {
        s.removeAllListeners('error');
        let why = 'closed by the monitor';
        s.on('error', (e) => {
          why = e.message;
          if (errors.length < 10) errors.push(`rank ${r.rank}: ${e.message}`);
        });
        // a connection lost before its Bye loses the rank: the run has failed, say so at once
        s.on('close', () => {
          if (!closing) void send({ ev: 'lost', rank: r.rank, message: why });
        });
        s.on('data', (d) => {
          // the monitor answers only to refuse: an Error frame
          refused++;
          if (errors.length < 10) errors.push(`rank ${r.rank}: monitor sent ${d.length} bytes (an Error)`);
        });
        r.socket = s;
        const f = hello(r);
        wireBytes += f.length;
        frames++;
        s.write(f);
        resolve({ retries: attempt - 1, ok: true });
      });
      s.once('error', () => {
        s.destroy();
        if (attempt >= CONNECT_ATTEMPTS) resolve({ retries: attempt - 1, ok: false });
        else setTimeout(go, 20 * attempt);
      });
    };
    go();
  });
}

async function connectAll(): Promise<void> {
  const m = /^tcp:\/\/(.*):(\d+)$/.exec(init.address)!;
  const host = m[1] === '0.0.0.0' ? '127.0.0.1' : m[1];
  const t0 = nowMs();
  let slowest = 0,
    retries = 0,
    failed = 0;
  const world = addon.encodeCommDef({
    localId: WORLD_LOCAL_ID,
    globalId: 1,
    members: Array.from({ length: init.size }, (_, i) => i),
  });
  const hello = (r: RankConn): Buffer =>
    Buffer.concat([
      addon.encodeHello({
        job: init.job,
        rank: r.rank,
        size: init.size,
        host: `node${Math.floor(r.rank / 64)}`,
        pid: 10_000 + r.rank,
        startNs: 1_700_000_000_000_000_000,
        program: './stencil3d',
        jobKey: init.jobKey,
      }),
      world,
    ]);
  await Promise.all(
    ranks.map(async (r) => {
      const c = await connectOne(r, host, Number(m[2]), hello);
      slowest = Math.max(slowest, nowMs() - t0);
      retries += c.retries;
      if (!c.ok) failed++;
    }),
  );
  void send({ ev: 'connected', t: nowMs(), cpuMs: cpuMs(), retries, failed, slowestMs: slowest });
}

/** Writes one buffer per rank (from `frameOf`), at most init.window not yet flushed at a time. */
async function writeRound(frameOf: (r: RankConn) => Buffer): Promise<void> {
  let pending = 0;
  let wake: (() => void) | null = null;
  const flushed = (): void => {
    pending--;
    if (wake && pending < init.window) {
      const w = wake;
      wake = null;
      w();
    }
  };
  for (const r of ranks) {
    if (!r.socket || r.socket.destroyed) continue;
    if (pending >= init.window) await new Promise<void>((res) => (wake = res));
    const f = frameOf(r);
    wireBytes += f.length;
    frames++;
    pending++;
    r.socket.write(f, flushed);
  }
  while (pending > 0) await new Promise<void>((res) => (wake = res));
}

async function stream(): Promise<void> {
  const n = init.recordsPerBatch;
  const cols = batchColumns(n);
  for (let seq = 0; seq < init.batches; seq++)
    await writeRound((r) => addon.encodeBatch({ seq, dropped: 0, epoch: 0, ...fillBatch(cols, r.template, seq, n) }));
  void send({
    ev: 'streamed',
    t: nowMs(),
    cpuMs: cpuMs(),
    records: ranks.length * init.batches * n,
    wireBytes,
  });
}

async function bye(): Promise<void> {
  closing = true;
  const total = init.batches * init.recordsPerBatch;
  const end = 1000 + total * 1500;
  const byeFrame = addon.encodeBye({ endNs: end, records: total, dropped: 0, mpiNs: total * 200 });
  await writeRound(() => byeFrame);
  await Promise.all(
    ranks.map(
      (r) =>
        new Promise<void>((res) => {
          const s = r.socket;
          if (!s || s.destroyed) return res();
          s.once('close', () => res());
          s.end();
        }),
    ),
  );
  await send({ ev: 'closed', t: nowMs(), cpuMs: cpuMs(), sent: sentTotals(total), refused, errors });
}

/** What this worker's ranks sent, from their steps (pattern.ts). */
function sentTotals(total: number): WorkerSent {
  const fn = new Map<number, [number, number]>();
  const src: number[] = [],
    dst: number[] = [],
    bytes: number[] = [],
    messages: number[] = [];
  const allreduces = new Float64Array(ranks.length);
  ranks.forEach((r, i) => {
    const t = rankTotals(r.template, total);
    for (const [f, c] of t.fnCount) {
      const e = fn.get(f) ?? [0, 0];
      e[0] += c;
      e[1] += t.fnBytes.get(f) ?? 0;
      fn.set(f, e);
    }
    for (const [d, s] of t.sends) {
      src.push(r.rank);
      dst.push(d);
      bytes.push(s.bytes);
      messages.push(s.messages);
    }
    allreduces[i] = t.allreduces;
  });
  return {
    records: ranks.length * total,
    frames,
    wireBytes,
    fn: [...fn].map(([f, [c, b]]) => [f, c, b]),
    src: Int32Array.from(src),
    dst: Int32Array.from(dst),
    bytes: Float64Array.from(bytes),
    messages: Float64Array.from(messages),
    allreduces,
  };
}

process.on('message', (m: WorkerCommand) => {
  const run = (p: Promise<void>): void =>
    void p.catch((e: Error) => {
      process.stderr.write(`scale generator: ${e.stack ?? e.message}\n`);
      process.exit(1);
    });
  switch (m.cmd) {
    case 'init': {
      init = m;
      const dims = gridDims(m.size);
      ranks = Array.from({ length: m.count }, (_, i) => ({
        rank: m.first + i,
        socket: null,
        template: stepTemplate(m.first + i, dims),
      }));
      void send({ ev: 'ready', cpuMs: cpuMs() });
      return;
    }
    case 'connect':
      return run(connectAll());
    case 'stream':
      return run(stream());
    case 'bye':
      return run(bye().then(() => process.disconnect()));
  }
});
process.on('disconnect', () => process.exit(0));
