// Parsing of the testbed's human-facing values: durations, bandwidths, site lists, link specs.

/** Parses a duration into milliseconds: "10ms", "500us", "0.01s", "2m"; a bare number is ms. */
export function parseDurationMs(text: string | number): number {
  if (typeof text === 'number') {
    if (!Number.isFinite(text) || text < 0) throw new Error(`bad duration: ${text}`);
    return text;
  }
  const m = /^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(ns|us|µs|ms|s|sec|m|min)?\s*$/i.exec(text);
  if (!m) throw new Error(`bad duration "${text}" (examples: 10ms, 500us, 0.5s)`);
  const v = Number(m[1]);
  const unit = (m[2] ?? 'ms').toLowerCase();
  const scale: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1e3,
    sec: 1e3,
    m: 60e3,
    min: 60e3,
  };
  return v * (scale[unit] as number);
}

/**
 * Parses a bandwidth into bits per second: "1gbit", "100mbit", "100Mbps", "1.5g", "800k",
 * "1e9"; a bare number is bits per second. (Unlike tc, "bps" means bits per second here.)
 */
export function parseBandwidth(text: string | number): number {
  if (typeof text === 'number') {
    if (!Number.isFinite(text) || text < 0) throw new Error(`bad bandwidth: ${text}`);
    return Math.round(text);
  }
  const m = /^\s*([0-9]+(?:\.[0-9]*)?(?:e[0-9]+)?|\.[0-9]+)\s*([kmgt]?)(bit|bits|bps|b|bit\/s)?\s*$/i.exec(text);
  if (!m) throw new Error(`bad bandwidth "${text}" (examples: 1gbit, 100mbit, 10Mbps, 0 = unlimited)`);
  const v = Number(m[1]);
  const prefix = (m[2] ?? '').toLowerCase();
  const scale: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 };
  return Math.round(v * (scale[prefix] as number));
}

export function formatBandwidth(bps: number): string {
  if (bps === 0) return 'unlimited';
  if (bps >= 1e9 && bps % 1e7 === 0) return `${bps / 1e9}gbit`;
  if (bps >= 1e6 && bps % 1e4 === 0) return `${bps / 1e6}mbit`;
  if (bps >= 1e3 && bps % 10 === 0) return `${bps / 1e3}kbit`;
  return `${bps}bit`;
}

export function formatMs(ms: number): string {
  return `${Number(ms.toFixed(3))}ms`;
}

export const SITE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,15}$/;

export interface SiteSpec {
  name: string;
  nodes: number;
  /** MPI slots per node of this site (default: the spec's slots, else 1). */
  slots?: number;
}

/** Parses "A=4,B=4" or "A=1x4,B=1x4" (nodes x slots per node). */
export function parseSites(text: string): SiteSpec[] {
  const out: SiteSpec[] = [];
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([^=]+)=([0-9]+)(?:x([0-9]+))?$/.exec(part);
    if (!m) throw new Error(`bad site "${part}" (expected NAME=NODES or NAME=NODESxSLOTS, e.g. A=4 or A=1x4)`);
    const site: SiteSpec = { name: (m[1] as string).trim(), nodes: Number(m[2]) };
    if (m[3] !== undefined) site.slots = Number(m[3]);
    out.push(site);
  }
  if (out.length === 0) throw new Error('no sites given');
  return out;
}

export interface LinkSpec {
  /** Site names; the link is set in both directions unless oneWay. */
  a: string;
  b: string;
  /** Round-trip time; one-way latency is half of it. */
  rttMs?: number;
  /** One-way latency (wins over rttMs). */
  latencyMs?: number;
  /** Bits per second, or a string like "100mbit". 0 = unlimited. */
  bandwidth?: number | string;
  /** Drop-tail queue limit of the link in bytes; 0 or absent = automatic (max(BDP, 1 MiB)). */
  queueBytes?: number;
  /** Only the direction a → b. */
  oneWay?: boolean;
}

/** Parses "A-B:rtt=20ms,bw=100mbit" (also latency=5ms, queue=262144; "A>B:" for one direction). */
export function parseLinkSpec(text: string): LinkSpec {
  const m = /^([A-Za-z][A-Za-z0-9_]*)(-|>)([A-Za-z][A-Za-z0-9_]*):(.+)$/.exec(text.trim());
  if (!m) throw new Error(`bad link "${text}" (expected A-B:rtt=20ms,bw=100mbit)`);
  const link: LinkSpec = { a: m[1] as string, b: m[3] as string };
  if (m[2] === '>') link.oneWay = true;
  for (const kv of (m[4] as string)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = kv.indexOf('=');
    if (eq < 0) throw new Error(`bad link parameter "${kv}" in "${text}"`);
    const k = kv.slice(0, eq).trim().toLowerCase();
    const v = kv.slice(eq + 1).trim();
    if (k === 'rtt') link.rttMs = parseDurationMs(v);
    else if (k === 'latency' || k === 'lat' || k === 'delay') link.latencyMs = parseDurationMs(v);
    else if (k === 'bw' || k === 'bandwidth' || k === 'rate') link.bandwidth = parseBandwidth(v);
    else if (k === 'queue' || k === 'q') link.queueBytes = parseBytes(v);
    else throw new Error(`unknown link parameter "${k}" in "${text}" (rtt, latency, bw, queue)`);
  }
  return link;
}

/** Parses a byte count: "262144", "256k", "1m" (binary multiples). */
export function parseBytes(text: string): number {
  const m = /^\s*([0-9]+(?:\.[0-9]*)?)\s*([kmg]?)(i?b)?\s*$/i.exec(text);
  if (!m) throw new Error(`bad byte count "${text}"`);
  const scale: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
  return Math.round(Number(m[1]) * (scale[(m[2] ?? '').toLowerCase()] as number));
}

/** IPv4 helpers. */
export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new Error(`bad IPv4 address ${ip}`);
  let v = 0;
  for (const p of parts) {
    const n = Number(p);
    if (!/^[0-9]{1,3}$/.test(p) || n > 255) throw new Error(`bad IPv4 address ${ip}`);
    v = v * 256 + n;
  }
  return v;
}

export function intToIp(v: number): string {
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}

export interface Subnet {
  base: number;
  prefix: number;
  text: string;
}

export function parseSubnet(text: string): Subnet {
  const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(text.trim());
  if (!m) throw new Error(`bad subnet "${text}" (expected a.b.c.d/len)`);
  const prefix = Number(m[2]);
  if (prefix < 8 || prefix > 29) throw new Error(`subnet ${text}: prefix length must be 8..29`);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const base = (ipToInt(m[1] as string) & mask) >>> 0;
  return { base, prefix, text: `${intToIp(base)}/${prefix}` };
}

/** The address at offset `n` of a subnet (throws if it does not fit). */
export function subnetHost(s: Subnet, n: number): string {
  const size = 2 ** (32 - s.prefix);
  if (n <= 0 || n >= size - 1) throw new Error(`subnet ${s.text} has no room for host ${n}`);
  return intToIp(s.base + n);
}

export function subnetsOverlap(a: Subnet, b: Subnet): boolean {
  const p = Math.min(a.prefix, b.prefix);
  const mask = (0xffffffff << (32 - p)) >>> 0;
  return (a.base & mask) >>> 0 === (b.base & mask) >>> 0;
}
