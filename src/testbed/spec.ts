// What a testbed spec means: its sites and their nodes, with names and addresses, and the link of
// every directed site pair. Pure: nothing here touches the system.
import { TestbedError } from './sys.js';
import { applyLinkParams, checkLinkValues } from './links.js';
import {
  DEFAULT_BANDWIDTH_BPS,
  DEFAULT_RTT_MS,
  lanOf,
  type LanMode,
  type LinkState,
  type NodeState,
  type TestbedState,
} from './state.js';
import {
  parseBandwidth,
  parseSubnet,
  SITE_NAME,
  subnetHost,
  type LinkSpec,
  type SiteSpec,
  type Subnet,
} from './units.js';

/** Host offset of node i in both subnets (the bridge is .1). */
const HOST_OFFSET = 10;

export interface TestbedSpec {
  /** Sites and their node counts: [{name:'A', nodes:4}] or {A: 4, B: 4}. Default A=4, B=4. */
  sites?: SiteSpec[] | Record<string, number>;
  /** MPI slots per node (default 1); a site's own `slots` wins. */
  slots?: number;
  /** Default round-trip time between two sites (ms). Default 10. */
  rttMs?: number;
  /** Default one-way latency between two sites (ms); wins over rttMs. */
  latencyMs?: number;
  /** Default bandwidth of each direction of each site pair: bits/s or "1gbit". Default 1 Gbit/s. */
  bandwidth?: number | string;
  /** Default drop-tail queue limit per link in bytes (0 = automatic: max(BDP, 1 MiB)). */
  queueBytes?: number;
  /** Per-pair overrides. */
  links?: LinkSpec[];
}

export interface TestbedOptions {
  /** Where state, hostfile, agent, control socket and log live. Default $SITEMPI_TESTBED_DIR or /run/sitempi-testbed. */
  stateDir?: string;
  /** Prefix of namespace, interface and host names (lowercase letters/digits, ≤ 10). Default "smpi". */
  prefix?: string;
  /** wanemu binary. Default: wanemu of this package's native build ($SITEMPI_BUILD_DIR or build/Release). */
  wanemuPath?: string;
  /** Management network (bridge + veth). Default 198.18.0.0/16. */
  mgmtSubnet?: string;
  /** Data network (wanemu's TUN devices). Default 198.19.0.0/16. */
  dataSubnet?: string;
  /** MTU of the TUN devices (and so the TCP MSS on the data network). Default 65000. */
  mtu?: number;
  /**
   * Same-site packets: 'kernel' (a bridge per site, wanemu carries only what crosses sites) or
   * 'emulated' (every packet through wanemu, same-site ones forwarded at once). Default emulated.
   */
  lan?: LanMode;
}

export interface NormalSpec {
  sites: { name: string; nodes: number; slots: number }[];
  links: LinkState[];
}

/** Checks a spec and fills in its defaults: every site and every directed link, explicitly. */
export function normalizeSpec(spec: TestbedSpec): NormalSpec {
  let sites: SiteSpec[];
  if (spec.sites === undefined)
    sites = [
      { name: 'A', nodes: 4 },
      { name: 'B', nodes: 4 },
    ];
  else if (Array.isArray(spec.sites)) sites = spec.sites;
  else sites = Object.entries(spec.sites).map(([name, nodes]) => ({ name, nodes }));
  if (sites.length === 0) throw new TestbedError('a testbed needs at least one site');
  const seen = new Set<string>();
  const defSlots = spec.slots ?? 1;
  const out: NormalSpec['sites'] = [];
  for (const s of sites) {
    if (!SITE_NAME.test(s.name))
      throw new TestbedError(`bad site name "${s.name}" (letter, then letters, digits or _)`);
    const key = s.name.toLowerCase();
    if (seen.has(key)) throw new TestbedError(`site ${s.name} given twice (site names are case-insensitive)`);
    seen.add(key);
    const slots = s.slots ?? defSlots;
    if (!Number.isInteger(s.nodes) || s.nodes < 1 || s.nodes > 200)
      throw new TestbedError(`site ${s.name}: nodes must be 1..200`);
    if (!Number.isInteger(slots) || slots < 1 || slots > 1024)
      throw new TestbedError(`site ${s.name}: slots must be 1..1024`);
    out.push({ name: s.name, nodes: s.nodes, slots });
  }
  const defLatency = spec.latencyMs ?? (spec.rttMs ?? DEFAULT_RTT_MS) / 2;
  const defBw = parseBandwidth(spec.bandwidth ?? DEFAULT_BANDWIDTH_BPS);
  const defQueue = spec.queueBytes ?? 0;
  checkLinkValues(defLatency, defBw, defQueue);
  const links = new Map<string, LinkState>();
  for (const a of out) {
    for (const b of out) {
      if (a.name === b.name) continue;
      links.set(`${a.name}>${b.name}`, {
        from: a.name,
        to: b.name,
        latencyMs: defLatency,
        bandwidthBps: defBw,
        queueBytes: defQueue,
      });
    }
  }
  for (const l of spec.links ?? []) {
    const a = out.find((s) => s.name === l.a);
    const b = out.find((s) => s.name === l.b);
    if (!a || !b)
      throw new TestbedError(`link ${l.a}-${l.b}: unknown site (sites: ${out.map((s) => s.name).join(', ')})`);
    if (a === b) throw new TestbedError(`link ${l.a}-${l.b}: a link joins two different sites`);
    const dirs = l.oneWay
      ? [[a.name, b.name]]
      : [
          [a.name, b.name],
          [b.name, a.name],
        ];
    for (const [from, to] of dirs) applyLinkParams(links.get(`${from}>${to}`) as LinkState, l);
  }
  return { sites: out, links: [...links.values()] };
}

/** The nodes of a spec, site by site: names, host names, namespaces and addresses. */
export function planNodes(ns: NormalSpec, prefix: string, mgmt: Subnet, data: Subnet): NodeState[] {
  const nodes: NodeState[] = [];
  let index = 0;
  for (const s of ns.sites) {
    for (let i = 0; i < s.nodes; i++) {
      const name = `${s.name.toLowerCase()}${i}`;
      const host = `${prefix}-${name}`;
      if (host.length > 63) throw new TestbedError(`host name ${host} is too long`);
      nodes.push({
        name,
        host,
        netns: host,
        site: s.name,
        homeSite: s.name,
        slots: s.slots,
        index,
        mgmtIp: subnetHost(mgmt, HOST_OFFSET + index),
        dataIp: subnetHost(data, HOST_OFFSET + index),
        vethHost: `${prefix}-h${index}`,
      });
      index++;
    }
  }
  if (new Set(nodes.map((n) => n.name)).size !== nodes.length) {
    throw new TestbedError('two nodes would get the same name; use site names that differ beyond case and digits');
  }
  return nodes;
}

/** Whether a testbed that is up has the layout a spec and options ask for (links aside). */
export function sameLayout(st: TestbedState, ns: NormalSpec, opts: TestbedOptions): boolean {
  const want: string[] = [];
  for (const s of ns.sites) for (let i = 0; i < s.nodes; i++) want.push(`${s.name}/${s.slots}`);
  const have = st.nodes.map((n) => `${n.homeSite}/${n.slots}`);
  if (want.join(',') !== have.join(',')) return false;
  if (opts.prefix !== undefined && opts.prefix !== st.prefix) return false;
  if (opts.mgmtSubnet !== undefined && parseSubnet(opts.mgmtSubnet).text !== st.mgmtSubnet) return false;
  if (opts.dataSubnet !== undefined && parseSubnet(opts.dataSubnet).text !== st.dataSubnet) return false;
  if (opts.mtu !== undefined && opts.mtu !== st.mtu) return false;
  if (opts.lan !== undefined && opts.lan !== lanOf(st)) return false;
  return true;
}
