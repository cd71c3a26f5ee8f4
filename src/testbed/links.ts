// The links between sites, as wanemu applies them, and the bytes and packets that crossed them.
import { lanCounters } from './lan.js';
import { TestbedError } from './sys.js';
import {
  DEFAULT_BANDWIDTH_BPS,
  DEFAULT_RTT_MS,
  requireState,
  saveState,
  type LinkState,
  type TestbedState,
} from './state.js';
import { parseBandwidth } from './units.js';
import { wanemuCommand, wanemuOne, type WanemuCountersReply, type WanemuStatus } from './wanemu.js';

export interface LinkInfo {
  from: string;
  to: string;
  latencyMs: number;
  bandwidthBps: number;
  queueBytes: number;
  effectiveQueueBytes: number | null;
}

export interface LinkCounters {
  from: string;
  to: string;
  bytes: number;
  packets: number;
  dropBytes: number;
  dropPackets: number;
}

export interface CountersSnapshot {
  /** Date.now() when taken. */
  at: number;
  /** Per directed site pair (only pairs that exist in wanemu; absent pairs carried nothing). */
  links: LinkCounters[];
  /** Same-site traffic per site (wanemu's, or with kernel LANs what the nodes sent into them). */
  local: { site: string; bytes: number; packets: number }[];
}

/** Parameters of one link as a spec or a live change gives them; absent ones stay as they are. */
export interface LinkParams {
  /** Round-trip time (each direction gets half). */
  rttMs?: number;
  /** One-way latency; wins over rttMs. */
  latencyMs?: number;
  /** Bits per second or "100mbit"; 0 = unlimited. */
  bandwidth?: number | string;
  queueBytes?: number;
}

export function checkLinkValues(latencyMs: number, bw: number, queue: number): void {
  if (!Number.isFinite(latencyMs) || latencyMs < 0 || latencyMs > 60000)
    throw new TestbedError(`bad latency ${latencyMs} ms`);
  if (!Number.isFinite(bw) || bw < 0) throw new TestbedError(`bad bandwidth ${bw}`);
  if (!Number.isInteger(queue) || queue < 0) throw new TestbedError(`bad queue size ${queue}`);
}

/** Sets the given parameters on a link (one direction) and checks the result. */
export function applyLinkParams(l: LinkState, p: LinkParams): void {
  if (p.latencyMs !== undefined) l.latencyMs = p.latencyMs;
  else if (p.rttMs !== undefined) l.latencyMs = p.rttMs / 2;
  if (p.bandwidth !== undefined) l.bandwidthBps = parseBandwidth(p.bandwidth);
  if (p.queueBytes !== undefined) l.queueBytes = p.queueBytes;
  checkLinkValues(l.latencyMs, l.bandwidthBps, l.queueBytes);
}

/** The wanemu command that applies a link. */
export function linkCommand(l: LinkState): string {
  return `link-set ${l.from} ${l.to} ${(l.latencyMs * 1000).toFixed(3)} ${Math.round(l.bandwidthBps)} ${l.queueBytes}`;
}

export function linkInfos(st: TestbedState, ws: WanemuStatus): LinkInfo[] {
  return ws.links
    .filter((l) => st.sites.includes(l.from) && st.sites.includes(l.to))
    .map((l) => ({
      from: l.from,
      to: l.to,
      latencyMs: (l.latencyUs ?? 0) / 1000,
      bandwidthBps: l.bandwidthBps ?? 0,
      queueBytes: l.queueBytes ?? 0,
      effectiveQueueBytes: l.effectiveQueueBytes ?? null,
    }));
}

/** The links between sites, per direction, as wanemu applies them now. */
export async function links(opts: { stateDir?: string } = {}): Promise<LinkInfo[]> {
  const st = await requireState(opts);
  const ws = await wanemuOne<WanemuStatus>(st.wanemu.control, 'status');
  return linkInfos(st, ws);
}

export interface SetLinkOptions extends LinkParams {
  stateDir?: string;
  /** Only a → b (default: both directions). */
  oneWay?: boolean;
}

/** Changes the link between sites a and b, live; unspecified parameters keep their values. */
export async function setLink(a: string, b: string, params: SetLinkOptions): Promise<LinkState[]> {
  const st = await requireState(params);
  for (const s of [a, b]) {
    if (!st.sites.includes(s)) throw new TestbedError(`unknown site ${s} (sites: ${st.sites.join(', ')})`);
  }
  if (a === b) throw new TestbedError('a link joins two different sites');
  const dirs: [string, string][] = params.oneWay
    ? [[a, b]]
    : [
        [a, b],
        [b, a],
      ];
  const changed: LinkState[] = [];
  for (const [from, to] of dirs) {
    let l = st.links.find((x) => x.from === from && x.to === to);
    if (!l) {
      l = { from, to, latencyMs: DEFAULT_RTT_MS / 2, bandwidthBps: DEFAULT_BANDWIDTH_BPS, queueBytes: 0 };
      st.links.push(l);
    }
    applyLinkParams(l, params);
    changed.push(l);
  }
  await wanemuCommand(st.wanemu.control, changed.map(linkCommand));
  await saveState(st);
  return changed;
}

/** Per directed site pair bytes and packets that crossed (IP packets, headers included). */
export async function counters(opts: { stateDir?: string } = {}): Promise<CountersSnapshot> {
  const st = await requireState(opts);
  const r = await wanemuOne<WanemuCountersReply>(st.wanemu.control, 'counters');
  return {
    at: Date.now(),
    links: r.links.map((l) => ({
      from: l.from,
      to: l.to,
      bytes: l.bytes,
      packets: l.packets,
      dropBytes: l.dropBytes,
      dropPackets: l.dropPackets,
    })),
    // With kernel LANs, same-site packets bypass wanemu: their counters are the LAN veths'.
    local: st.lan === 'kernel' ? await lanCounters(st) : r.local,
  };
}

/** Bytes from site a to site b in a snapshot (0 if that pair never carried anything). */
export function linkBytes(c: CountersSnapshot, from: string, to: string): number {
  return c.links.find((l) => l.from === from && l.to === to)?.bytes ?? 0;
}

/** Counter differences between two snapshots (after − before), per directed pair. */
export function countersDelta(before: CountersSnapshot, after: CountersSnapshot): LinkCounters[] {
  return after.links.map((l) => {
    const b = before.links.find((x) => x.from === l.from && x.to === l.to);
    return {
      from: l.from,
      to: l.to,
      bytes: l.bytes - (b?.bytes ?? 0),
      packets: l.packets - (b?.packets ?? 0),
      dropBytes: l.dropBytes - (b?.dropBytes ?? 0),
      dropPackets: l.dropPackets - (b?.dropPackets ?? 0),
    };
  });
}
