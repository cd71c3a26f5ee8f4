// One bulk TCP transfer between two testbed nodes (bench/wanemu-bulk.c in their namespaces), with
// wanemu's CPU time and counters read around it, and UDP round trips: what bench/wanemu.ts and
// the wanemu test measure.
import { spawn } from 'node:child_process';
import path from 'node:path';

import { compileCached } from '../src/mpi/toolchain.js';
import { counters, countersDelta, type LinkCounters, type NodeState, type TestbedState } from '../src/testbed/index.js';
import { cpuSample, cpuSpan, type CpuSpan } from '../src/testbed/wanemu-cpu.js';

/** Compiles wanemu-bulk.c (cached by content); returns the binary. */
export function buildBulk(): string {
  return compileCached(path.join('bench', 'wanemu-bulk.c'), 'cc', ['-Wall']);
}

export interface Transfer {
  /** Payload bytes the receiver got (and checked). */
  bytes: number;
  /** The sender's time from connect to the receiver's close. */
  seconds: number;
  /** Payload rate, bit/s. */
  bps: number;
  /** Every byte arrived as sent. */
  ok: boolean;
  /** wanemu's CPU over the transfer. */
  cpu: CpuSpan | null;
  /** Bytes wanemu forwarded over the transfer (IP packets, both directions, all links). */
  forwardedBytes: number;
  links: LinkCounters[];
}

interface Ran {
  code: number | null;
  out: string;
  err: string;
}

function run(cmd: string[], onLine?: (l: string) => void, kill?: Promise<void>): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(cmd[0] as string, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    void kill?.then(() => child.kill('SIGKILL'));
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
      if (onLine) for (const l of d.split('\n')) if (l) onLine(l);
    });
    child.stderr.on('data', (d: string) => (err += d));
    child.on('error', (e) => (err += e.message));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

const field = (out: string, key: string): number => Number(new RegExp(`${key}=([0-9.]+)`).exec(out)?.[1] ?? NaN);

function nodesOf(st: TestbedState, from: string, to: string): [NodeState, NodeState] {
  const a = st.nodes.find((n) => n.name === from);
  const b = st.nodes.find((n) => n.name === to);
  if (!a || !b) throw new Error(`unknown node ${a ? to : from}`);
  return [a, b];
}

/** Starts a server of wanemu-bulk in node b and resolves once it listens (or ended). */
async function serve(b: NodeState, args: string[], kill?: Promise<void>): Promise<{ done: Promise<Ran> }> {
  let listening: () => void = () => undefined;
  const ready = new Promise<void>((r) => (listening = r));
  const server = run(
    ['ip', 'netns', 'exec', b.netns, ...args],
    (l) => {
      if (l.trim() === 'LISTENING') listening();
    },
    kill,
  );
  await Promise.race([ready, server]);
  return { done: server };
}

export interface Ping {
  lost: number;
  minMs: number;
  medianMs: number;
}

/** `count` UDP round trips from node `from` to node `to`, one at a time. */
export async function udpPing(
  st: TestbedState,
  bin: string,
  from: string,
  to: string,
  count: number,
  port = 5202,
): Promise<Ping> {
  const [a, b] = nodesOf(st, from, to);
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((r) => (stop = r));
  const echo = await serve(b, [bin, 'echo', String(port), String(count)], stopped);
  const p = await run(['ip', 'netns', 'exec', a.netns, bin, 'ping', b.dataIp, String(port), String(count)]);
  stop(); // the echo server waits for `count` datagrams: lost ones never come
  await echo.done;
  if (p.code !== 0) throw new Error(`ping ${from} -> ${to} failed (${p.code}): ${p.err}`);
  return {
    lost: field(p.out, 'lost'),
    minMs: field(p.out, 'min_us') / 1000,
    medianMs: field(p.out, 'median_us') / 1000,
  };
}

/** Sends `bytes` from node `from` to node `to` (names as in the state) over the data network. */
export async function bulkTransfer(
  st: TestbedState,
  bin: string,
  from: string,
  to: string,
  bytes: number,
  port = 5201,
): Promise<Transfer> {
  const [a, b] = nodesOf(st, from, to);
  const recv = await serve(b, [bin, 'recv', String(port)]);
  const c0 = await counters({ stateDir: st.stateDir });
  const cpu0 = cpuSample(st.wanemu.pid);
  const send = await run(['ip', 'netns', 'exec', a.netns, bin, 'send', b.dataIp, String(port), String(bytes)]);
  const r = await recv.done;
  const cpu1 = cpuSample(st.wanemu.pid);
  const c1 = await counters({ stateDir: st.stateDir });
  if (send.code !== 0 || r.code === null || r.code === 1 || r.code === 2)
    throw new Error(`bulk transfer ${from} -> ${to} failed: send ${send.code} ${send.err}; recv ${r.code} ${r.err}`);
  const links = countersDelta(c0, c1);
  const seconds = field(send.out, 'seconds');
  const got = field(r.out, 'bytes');
  return {
    bytes: got,
    seconds,
    bps: (got * 8) / seconds,
    ok: field(r.out, 'ok') === 1 && got === bytes,
    cpu: cpuSpan(cpu0, cpu1),
    forwardedBytes: links.reduce((s, l) => s + l.bytes, 0),
    links,
  };
}
