// The nodes' kernel TCP counters (segments sent, retransmitted, timeouts, loss probes), read from
// /proc/PID/net/{snmp,netstat} of one process in each node's network namespace: no process spawned
// and no setns, so that a benchmark can sample them between its points without disturbing them.
// Why: with the testbed's 64 KB packets a window is a few dozen packets, and a retransmission lost
// at the end of a flow waits for TCP's retransmission timeout (200 ms at least), which decides a
// call's time; these counters say which points met one.
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';

export interface TcpCounters {
  /** Tcp OutSegs: segments sent (retransmissions not included). */
  outSegs: number;
  /** Tcp RetransSegs: segments retransmitted. */
  retransSegs: number;
  /** TcpExt TCPTimeouts: retransmission timeouts that fired. */
  timeouts: number;
  /** TcpExt TCPLossProbes: tail loss probes sent (2 round trips after the last ACK, or about 200 ms
   *  where one packet was outstanding: a lost last packet of a message waits that long). */
  lossProbes: number;
}

/** The "Prefix: name name…" / "Prefix: value value…" line pairs of /proc/net/snmp and netstat, as
 *  "Prefix.name" → value (lines that do not pair up are skipped). */
export function parseProcNet(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    const head = (lines[i] as string).trim().split(/\s+/);
    const vals = (lines[i + 1] as string).trim().split(/\s+/);
    const prefix = head[0];
    if (!prefix?.endsWith(':') || vals[0] !== prefix || head.length !== vals.length) continue;
    if (head.slice(1).every((h) => /^-?\d+$/.test(h))) continue; // a value line first: not a pair
    for (let k = 1; k < head.length; k++) out.set(`${prefix.slice(0, -1)}.${head[k]}`, Number(vals[k]));
    i++;
  }
  return out;
}

/** The counters of the network namespace PID lives in, or null when PID is gone or unreadable. */
export function tcpCountersOf(pid: number): TcpCounters | null {
  try {
    const snmp = parseProcNet(readFileSync(`/proc/${pid}/net/snmp`, 'utf8'));
    const ext = parseProcNet(readFileSync(`/proc/${pid}/net/netstat`, 'utf8'));
    const outSegs = snmp.get('Tcp.OutSegs');
    const retransSegs = snmp.get('Tcp.RetransSegs');
    const timeouts = ext.get('TcpExt.TCPTimeouts');
    const lossProbes = ext.get('TcpExt.TCPLossProbes');
    if (outSegs === undefined || retransSegs === undefined || timeouts === undefined || lossProbes === undefined)
      return null;
    return { outSegs, retransSegs, timeouts, lossProbes };
  } catch {
    return null;
  }
}

/** For each namespace file (namespaces.ts's netnsFile), one process that lives in that namespace now,
 *  or none where no process does (its entry is then missing from the map). */
export function processesIn(netnsFiles: string[]): Map<string, number> {
  const want = new Map<string, string>(); // "net:[inode]" → file
  for (const f of netnsFiles) {
    try {
      want.set(`net:[${statSync(f).ino}]`, f);
    } catch {
      // a namespace that is gone has no process
    }
  }
  const found = new Map<string, number>();
  for (const d of readdirSync('/proc')) {
    if (found.size === want.size) break;
    if (!/^\d+$/.test(d)) continue;
    let link: string;
    try {
      link = readlinkSync(`/proc/${d}/ns/net`);
    } catch {
      continue; // exited meanwhile, or not ours to read
    }
    const f = want.get(link);
    if (f !== undefined && !found.has(f)) found.set(f, Number(d));
  }
  return found;
}

/** The counters summed over the nodes whose processes are given; null when any of them is gone. */
export function tcpSample(pids: number[]): TcpCounters | null {
  if (!pids.length) return null;
  const sum: TcpCounters = { outSegs: 0, retransSegs: 0, timeouts: 0, lossProbes: 0 };
  for (const pid of pids) {
    const c = tcpCountersOf(pid);
    if (!c) return null;
    sum.outSegs += c.outSegs;
    sum.retransSegs += c.retransSegs;
    sum.timeouts += c.timeouts;
    sum.lossProbes += c.lossProbes;
  }
  return sum;
}

/** What happened between two samples (null when either is missing). */
export function tcpSpan(a: TcpCounters | null, b: TcpCounters | null): TcpCounters | null {
  if (!a || !b) return null;
  return {
    outSegs: b.outSegs - a.outSegs,
    retransSegs: b.retransSegs - a.retransSegs,
    timeouts: b.timeouts - a.timeouts,
    lossProbes: b.lossProbes - a.lossProbes,
  };
}
