// The sitempi testbed: a multi-site virtual cluster on one Linux host.
//
// One network namespace per virtual node, a management bridge for launch traffic, and a data
// network on TUN devices owned by wanemu, which emulates the WAN links between sites. mpirun runs
// in the root namespace and starts its daemons in the node namespaces through a generated rsh
// agent; MPI traffic is confined to the data network by MCA parameters (see mpirunArgs).
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, promises as fs, constants as fsc } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  cmdline,
  ip,
  ipQuiet,
  isRoot,
  must,
  pidAlive,
  preflight,
  run,
  sleep,
  terminate,
  TestbedError,
  writeFileAtomic,
} from './sys.js';
import {
  parseBandwidth,
  parseSubnet,
  SITE_NAME,
  subnetHost,
  subnetsOverlap,
  type LinkSpec,
  type SiteSpec,
} from './units.js';
import { wanemuCommand, wanemuOne, type WanemuCountersReply, type WanemuStatus } from './wanemu.js';

export { TestbedError } from './sys.js';

export const DEFAULT_STATE_DIR = '/run/sitempi-testbed';
export const DEFAULT_PREFIX = 'smpi';
export const DEFAULT_MGMT_SUBNET = '198.18.0.0/16';
export const DEFAULT_DATA_SUBNET = '198.19.0.0/16';
export const DEFAULT_MTU = 65000;
export const DEFAULT_RTT_MS = 10;
export const DEFAULT_BANDWIDTH_BPS = 1e9;
/** Host offset of node i in both subnets (the bridge is .1). */
const HOST_OFFSET = 10;
const DATA_IFNAME = 'wan0';
const MGMT_IFNAME = 'mgmt0';
const STATE_FILE = 'state.json';
const HOSTS_FILE = '/etc/hosts';

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
  /** wanemu binary. Default $SITEMPI_WANEMU, else build/Release/wanemu of this repository. */
  wanemuPath?: string;
  /** Management network (bridge + veth). Default 198.18.0.0/16. */
  mgmtSubnet?: string;
  /** Data network (wanemu's TUN devices). Default 198.19.0.0/16. */
  dataSubnet?: string;
  /** MTU of the TUN devices (and so the TCP MSS on the data network). Default 65000. */
  mtu?: number;
}

export interface NodeState {
  /** Short name, e.g. "a0". */
  name: string;
  /** Host name = namespace name, e.g. "smpi-a0"; what the hostfile and /etc/hosts use. */
  host: string;
  netns: string;
  /** Current site (changes with migrate). */
  site: string;
  /** Site the node was created in. */
  homeSite: string;
  slots: number;
  index: number;
  mgmtIp: string;
  dataIp: string;
  vethHost: string;
}

export interface LinkState {
  from: string;
  to: string;
  latencyMs: number;
  bandwidthBps: number;
  queueBytes: number;
}

export interface TestbedState {
  version: 1;
  prefix: string;
  stateDir: string;
  createdAt: string;
  mgmtSubnet: string;
  dataSubnet: string;
  bridge: { name: string; ip: string };
  mtu: number;
  sites: string[];
  nodes: NodeState[];
  links: LinkState[];
  wanemu: { path: string; pid: number; control: string; log: string; pidfile: string };
  hostfile: string;
  agent: string;
  hostsMarker: string;
}

export interface NodeStatus extends NodeState {
  present: boolean;
  downMsLeft: number;
  migrations: number;
}

export interface TestbedStatus {
  up: boolean;
  healthy: boolean;
  problems: string[];
  stateDir: string;
  prefix?: string;
  wanemu?: { pid: number; alive: boolean; uptimeMs?: number };
  sites: string[];
  nodes: NodeStatus[];
  links: LinkInfo[];
  hostfile?: string;
  agent?: string;
}

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
  /** Same-site traffic per site. */
  local: { site: string; bytes: number; packets: number }[];
}

// ------------------------------------------------------------------ options and paths

function stateDirOf(opts?: { stateDir?: string | undefined }): string {
  return path.resolve(opts?.stateDir ?? process.env['SITEMPI_TESTBED_DIR'] ?? DEFAULT_STATE_DIR);
}

function checkPrefix(prefix: string): string {
  if (!/^[a-z][a-z0-9]{0,9}$/.test(prefix)) {
    throw new TestbedError(`bad prefix "${prefix}": 1-10 lowercase letters or digits, starting with a letter`);
  }
  return prefix;
}

/** The repository root (the directory with sitempi's package.json above this module). */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && existsSync(path.join(dir, 'native', 'wanemu'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return process.cwd();
}

export function defaultWanemuPath(): string {
  return process.env['SITEMPI_WANEMU'] ?? path.join(repoRoot(), 'build', 'Release', 'wanemu');
}

// ------------------------------------------------------------------ state

export async function loadState(opts?: { stateDir?: string }): Promise<TestbedState | null> {
  const file = path.join(stateDirOf(opts), STATE_FILE);
  let raw: string;
  try {
    raw = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const st = JSON.parse(raw) as TestbedState;
    if (st.version !== 1 || !Array.isArray(st.nodes)) throw new Error('unknown version');
    return st;
  } catch (e) {
    throw new TestbedError(`testbed state ${file} is unreadable (${(e as Error).message}); run down to clean up`);
  }
}

async function saveState(st: TestbedState): Promise<void> {
  await writeFileAtomic(path.join(st.stateDir, STATE_FILE), `${JSON.stringify(st, null, 2)}\n`);
}

async function requireState(opts?: { stateDir?: string }): Promise<TestbedState> {
  const st = await loadState(opts);
  if (!st) throw new TestbedError(`no testbed is up (no state in ${stateDirOf(opts)}); run \`sitempi testbed up\` first`);
  return st;
}

// ------------------------------------------------------------------ spec

interface NormalSpec {
  sites: { name: string; nodes: number; slots: number }[];
  links: LinkState[];
}

function normalizeSpec(spec: TestbedSpec): NormalSpec {
  let sites: SiteSpec[];
  if (spec.sites === undefined) sites = [{ name: 'A', nodes: 4 }, { name: 'B', nodes: 4 }];
  else if (Array.isArray(spec.sites)) sites = spec.sites;
  else sites = Object.entries(spec.sites).map(([name, nodes]) => ({ name, nodes }));
  if (sites.length === 0) throw new TestbedError('a testbed needs at least one site');
  const seen = new Set<string>();
  const defSlots = spec.slots ?? 1;
  const out: NormalSpec['sites'] = [];
  for (const s of sites) {
    if (!SITE_NAME.test(s.name)) throw new TestbedError(`bad site name "${s.name}" (letter, then letters, digits or _)`);
    const key = s.name.toLowerCase();
    if (seen.has(key)) throw new TestbedError(`site ${s.name} given twice (site names are case-insensitive)`);
    seen.add(key);
    const slots = s.slots ?? defSlots;
    if (!Number.isInteger(s.nodes) || s.nodes < 1 || s.nodes > 200) throw new TestbedError(`site ${s.name}: nodes must be 1..200`);
    if (!Number.isInteger(slots) || slots < 1 || slots > 1024) throw new TestbedError(`site ${s.name}: slots must be 1..1024`);
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
    if (!a || !b) throw new TestbedError(`link ${l.a}-${l.b}: unknown site (sites: ${out.map((s) => s.name).join(', ')})`);
    if (a === b) throw new TestbedError(`link ${l.a}-${l.b}: a link joins two different sites`);
    const dirs = l.oneWay ? [[a.name, b.name]] : [[a.name, b.name], [b.name, a.name]];
    for (const [from, to] of dirs) {
      const cur = links.get(`${from}>${to}`) as LinkState;
      if (l.latencyMs !== undefined) cur.latencyMs = l.latencyMs;
      else if (l.rttMs !== undefined) cur.latencyMs = l.rttMs / 2;
      if (l.bandwidth !== undefined) cur.bandwidthBps = parseBandwidth(l.bandwidth);
      if (l.queueBytes !== undefined) cur.queueBytes = l.queueBytes;
      checkLinkValues(cur.latencyMs, cur.bandwidthBps, cur.queueBytes);
    }
  }
  return { sites: out, links: [...links.values()] };
}

function checkLinkValues(latencyMs: number, bw: number, queue: number): void {
  if (!Number.isFinite(latencyMs) || latencyMs < 0 || latencyMs > 60000) throw new TestbedError(`bad latency ${latencyMs} ms`);
  if (!Number.isFinite(bw) || bw < 0) throw new TestbedError(`bad bandwidth ${bw}`);
  if (!Number.isInteger(queue) || queue < 0) throw new TestbedError(`bad queue size ${queue}`);
}

function linkCommand(l: LinkState): string {
  return `link-set ${l.from} ${l.to} ${(l.latencyMs * 1000).toFixed(3)} ${Math.round(l.bandwidthBps)} ${l.queueBytes}`;
}

function sameLayout(st: TestbedState, ns: NormalSpec, opts: TestbedOptions): boolean {
  const want: string[] = [];
  for (const s of ns.sites) for (let i = 0; i < s.nodes; i++) want.push(`${s.name}/${s.slots}`);
  const have = st.nodes.map((n) => `${n.homeSite}/${n.slots}`);
  if (want.join(',') !== have.join(',')) return false;
  if (opts.prefix !== undefined && opts.prefix !== st.prefix) return false;
  if (opts.mgmtSubnet !== undefined && parseSubnet(opts.mgmtSubnet).text !== st.mgmtSubnet) return false;
  if (opts.dataSubnet !== undefined && parseSubnet(opts.dataSubnet).text !== st.dataSubnet) return false;
  if (opts.mtu !== undefined && opts.mtu !== st.mtu) return false;
  return true;
}

// ------------------------------------------------------------------ up

/**
 * Brings a testbed up (idempotent: if the same layout is up and healthy, only the link
 * parameters are re-applied). Returns its state.
 */
export async function up(spec: TestbedSpec = {}, opts: TestbedOptions = {}): Promise<TestbedState> {
  preflight({ needUnshare: true });
  const ns = normalizeSpec(spec);
  const stateDir = stateDirOf(opts);
  const existing = await loadState({ stateDir });
  if (existing) {
    const health = await checkHealth(existing);
    if (health.length === 0 && sameLayout(existing, ns, opts)) {
      await wanemuCommand(existing.wanemu.control, ns.links.map(linkCommand));
      existing.links = ns.links;
      await saveState(existing);
      return existing;
    }
    if (health.length === 0) {
      throw new TestbedError(
        `a different testbed is already up (state in ${stateDir}); run \`sitempi testbed down\` first`,
      );
    }
    // Broken remains of an earlier testbed: clean up, then build afresh.
    await down({ stateDir });
  }
  const prefix = checkPrefix(opts.prefix ?? existing?.prefix ?? DEFAULT_PREFIX);
  const mgmt = parseSubnet(opts.mgmtSubnet ?? DEFAULT_MGMT_SUBNET);
  const data = parseSubnet(opts.dataSubnet ?? DEFAULT_DATA_SUBNET);
  if (subnetsOverlap(mgmt, data)) throw new TestbedError(`management ${mgmt.text} and data ${data.text} subnets overlap`);
  const mtu = opts.mtu ?? DEFAULT_MTU;
  if (!Number.isInteger(mtu) || mtu < 576 || mtu > 65535) throw new TestbedError(`bad MTU ${mtu} (576..65535)`);
  const wanemuPath = path.resolve(opts.wanemuPath ?? defaultWanemuPath());
  try {
    await fs.access(wanemuPath, fsc.X_OK);
  } catch {
    throw new TestbedError(
      `wanemu not found or not executable at ${wanemuPath}: build it (npm run build:native, or cmake -S native/wanemu -B build/wanemu && cmake --build build/wanemu) or pass its path`,
    );
  }
  const bridgeName = `${prefix}-br0`;
  // Leftovers with this prefix but without state (a crash, a deleted state dir): remove them.
  await cleanupByPrefix(prefix, stateDir);
  const taken = await otherBridgeOn(mgmt, bridgeName);
  if (taken) {
    throw new TestbedError(`management subnet ${mgmt.text} is already used by ${taken}; choose another (--mgmt-subnet)`);
  }

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

  await fs.mkdir(stateDir, { recursive: true, mode: 0o755 });
  const st: TestbedState = {
    version: 1,
    prefix,
    stateDir,
    createdAt: new Date().toISOString(),
    mgmtSubnet: mgmt.text,
    dataSubnet: data.text,
    bridge: { name: bridgeName, ip: subnetHost(mgmt, 1) },
    mtu,
    sites: ns.sites.map((s) => s.name),
    nodes,
    links: ns.links,
    wanemu: {
      path: wanemuPath,
      pid: 0,
      control: path.join(stateDir, 'wanemu.sock'),
      log: path.join(stateDir, 'wanemu.log'),
      pidfile: path.join(stateDir, 'wanemu.pid'),
    },
    hostfile: path.join(stateDir, 'hostfile'),
    agent: path.join(stateDir, 'rsh-agent'),
    hostsMarker: `sitempi-testbed:${prefix}`,
  };
  try {
    // Management bridge.
    await ip('link', 'add', bridgeName, 'type', 'bridge');
    await ip('addr', 'add', `${st.bridge.ip}/${mgmt.prefix}`, 'dev', bridgeName);
    await ip('link', 'set', bridgeName, 'up');
    // Node namespaces with their management veth.
    for (const n of nodes) {
      await ip('netns', 'add', n.netns);
      await ip('-n', n.netns, 'link', 'set', 'lo', 'up');
      await ip('link', 'add', n.vethHost, 'type', 'veth', 'peer', 'name', MGMT_IFNAME, 'netns', n.netns);
      await ip('link', 'set', n.vethHost, 'master', bridgeName, 'up');
      await ip('-n', n.netns, 'addr', 'add', `${n.mgmtIp}/${mgmt.prefix}`, 'dev', MGMT_IFNAME);
      await ip('-n', n.netns, 'link', 'set', MGMT_IFNAME, 'up');
    }
    // wanemu and the data network.
    st.wanemu.pid = await startWanemu(st, ns.links[0]);
    await saveState(st); // from here on, down() can find everything
    const cmds = nodes.map(
      (n) => `node-add ${n.name} ${n.site} ${n.dataIp}/${data.prefix} ${n.netns} ${DATA_IFNAME} ${mtu}`,
    );
    cmds.push(...ns.links.map(linkCommand));
    await wanemuCommand(st.wanemu.control, cmds, 15000);
    // Launch files and names.
    await writeFileAtomic(st.hostfile, nodes.map((n) => `${n.host} slots=${n.slots}\n`).join(''));
    await writeFileAtomic(st.agent, agentScript(st), 0o755);
    await addHostsEntries(st);
    await saveState(st);
  } catch (e) {
    await down({ stateDir, prefix }).catch(() => undefined);
    throw e;
  }
  return st;
}

async function startWanemu(st: TestbedState, first: LinkState | undefined): Promise<number> {
  await fs.rm(st.wanemu.control, { force: true });
  const log = openSync(st.wanemu.log, 'a');
  const args = [
    '--control',
    st.wanemu.control,
    '--pidfile',
    st.wanemu.pidfile,
    '--mtu',
    String(st.mtu),
  ];
  if (first) {
    args.push('--default-latency-us', (first.latencyMs * 1000).toFixed(3));
    args.push('--default-bandwidth-bps', String(Math.round(first.bandwidthBps)));
  }
  const child = spawn(st.wanemu.path, args, { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  let exited: number | null = null;
  child.on('exit', (code) => {
    exited = code ?? -1;
  });
  child.on('error', () => {
    exited = -1;
  });
  child.unref();
  const pid = child.pid ?? 0;
  const deadline = Date.now() + 5000;
  for (;;) {
    if (exited !== null) {
      const tail = (await fs.readFile(st.wanemu.log, 'utf8').catch(() => '')).split('\n').slice(-10).join('\n');
      throw new TestbedError(`wanemu exited at start (code ${exited}):\n${tail}`);
    }
    try {
      await wanemuOne(st.wanemu.control, 'ping');
      return pid;
    } catch (e) {
      if (Date.now() > deadline) throw new TestbedError(`wanemu did not come up: ${(e as Error).message}`);
    }
    await sleep(20);
  }
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function agentScript(st: TestbedState): string {
  const cases = st.nodes
    .map((n) => `  ${[n.host, n.name, n.mgmtIp].map(shQuote).join('|')}) ns=${shQuote(n.netns)}; host=${shQuote(n.host)} ;;`)
    .join('\n');
  return `#!/bin/sh
# sitempi testbed rsh agent (generated; prefix ${st.prefix}, state ${st.stateDir}).
# Used by mpirun as: --mca plm_rsh_agent ${st.agent}
# Called like ssh: AGENT [ssh options] HOST COMMAND...; runs COMMAND with /bin/sh in the network
# namespace of HOST, in a UTS namespace of its own whose host name is HOST.
while [ $# -gt 0 ]; do
  case "$1" in
    -l|-p|-o|-i|-F) shift 2 ;;
    -*) shift ;;
    *) break ;;
  esac
done
if [ $# -lt 2 ]; then
  echo "sitempi testbed agent: usage: $0 HOST COMMAND..." >&2
  exit 255
fi
target="$1"; shift
target="\${target#*@}"
case "$target" in
${cases}
  *) echo "sitempi testbed agent: $target is not a node of this testbed (${st.prefix})" >&2; exit 255 ;;
esac
exec ip netns exec "$ns" unshare --uts /bin/sh -c 'echo "$0" > /proc/sys/kernel/hostname && exec /bin/sh -c "$1"' "$host" "$*"
`;
}

// ------------------------------------------------------------------ /etc/hosts

async function editHosts(marker: string, add: string[]): Promise<void> {
  let text = '';
  try {
    text = await fs.readFile(HOSTS_FILE, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const tag = `# ${marker}`;
  const kept = text.split('\n').filter((l) => !l.trimEnd().endsWith(tag));
  while (kept.length > 0 && kept[kept.length - 1] === '') kept.pop();
  const lines = [...kept, ...add.map((l) => `${l}\t${tag}`)];
  const next = `${lines.join('\n')}\n`;
  if (next === text) return;
  // Written in place: /etc/hosts is often a bind mount that cannot be renamed over.
  await fs.writeFile(HOSTS_FILE, next);
}

async function addHostsEntries(st: TestbedState): Promise<void> {
  await editHosts(
    st.hostsMarker,
    st.nodes.map((n) => `${n.mgmtIp}\t${n.host}`),
  );
}

// ------------------------------------------------------------------ down

/** Takes the testbed down; idempotent. Leaves no namespace, link, hosts entry, file or process. */
export async function down(opts: { stateDir?: string; prefix?: string } = {}): Promise<{ removed: boolean }> {
  preflight({ needTun: false });
  const stateDir = stateDirOf(opts);
  let st: TestbedState | null = null;
  try {
    st = await loadState({ stateDir });
  } catch {
    st = null; // unreadable state: clean up by prefix
  }
  const prefix = checkPrefix(st?.prefix ?? opts.prefix ?? DEFAULT_PREFIX);
  const removed = await cleanupByPrefix(prefix, stateDir, st);
  return { removed: removed || st !== null };
}

async function wanemuPids(stateDir: string, st: TestbedState | null): Promise<number[]> {
  const control = path.join(stateDir, 'wanemu.sock');
  const pids = new Set<number>();
  const candidates: number[] = [];
  if (st?.wanemu.pid) candidates.push(st.wanemu.pid);
  try {
    const p = Number((await fs.readFile(path.join(stateDir, 'wanemu.pid'), 'utf8')).trim());
    if (p > 0) candidates.push(p);
  } catch {
    /* none */
  }
  // Any wanemu whose control socket is ours (the state may be gone).
  for (const ent of await fs.readdir('/proc').catch(() => [] as string[])) {
    if (/^[0-9]+$/.test(ent)) candidates.push(Number(ent));
  }
  for (const pid of candidates) {
    if (pids.has(pid) || pid === process.pid) continue;
    const argv = await cmdline(pid);
    if (argv.length === 0 || !path.basename(argv[0] as string).startsWith('wanemu')) continue;
    const ci = argv.indexOf('--control');
    if (ci >= 0 && path.resolve(argv[ci + 1] ?? '') === control) pids.add(pid);
  }
  return [...pids];
}

async function cleanupByPrefix(prefix: string, stateDir: string, st: TestbedState | null = null): Promise<boolean> {
  let removed = false;
  // 1. wanemu (closing its TUN fds removes the TUN devices).
  for (const pid of await wanemuPids(stateDir, st)) {
    await terminate(pid);
    removed = true;
  }
  // 2. Node namespaces and whatever still runs inside them.
  for (const name of await listNetns()) {
    if (!name.startsWith(`${prefix}-`)) continue;
    await killNetnsProcesses(name);
    await ipQuiet('netns', 'del', name);
    removed = true;
  }
  // 3. Links in the root namespace: the bridge and host sides of veth pairs. (Deleting a
  // namespace removes its veth pairs asynchronously, so wait until none is left.)
  for (let i = 0; i < 100; i++) {
    const left = await rootLinks(prefix);
    if (left.length === 0) break;
    if (i % 10 === 0) {
      for (const name of left) await ipQuiet('link', 'del', name);
    }
    removed = true;
    await sleep(20);
  }
  // 4. /etc/hosts entries.
  await editHosts(st?.hostsMarker ?? `sitempi-testbed:${prefix}`, []);
  // 5. Our files in the state directory, and the directory if it is then empty.
  for (const f of [STATE_FILE, 'hostfile', 'rsh-agent', 'wanemu.sock', 'wanemu.pid', 'wanemu.log']) {
    await fs.rm(path.join(stateDir, f), { force: true });
  }
  await fs.rmdir(stateDir).catch(() => undefined);
  return removed;
}

/** Interfaces in the root namespace whose names start with `${prefix}-`. */
export async function rootLinks(prefix: string): Promise<string[]> {
  const out = await run('ip', ['-o', 'link', 'show']);
  const names: string[] = [];
  for (const line of out.stdout.split('\n')) {
    const m = /^[0-9]+:\s+([^:@\s]+)/.exec(line);
    const name = m?.[1];
    if (name && name.startsWith(`${prefix}-`)) names.push(name);
  }
  return names;
}

/** Network namespaces (by name, as `ip netns list` shows them). */
export async function listNetns(): Promise<string[]> {
  const r = await run('ip', ['netns', 'list']);
  if (r.code !== 0) return [];
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((s) => s.length > 0);
}

async function netnsPids(name: string): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', name]);
  if (r.code !== 0) return [];
  return r.stdout
    .split(/\s+/)
    .filter((s) => /^[0-9]+$/.test(s))
    .map(Number)
    .filter((p) => p !== process.pid);
}

async function killNetnsProcesses(name: string): Promise<void> {
  let pids = await netnsPids(name);
  if (pids.length === 0) return;
  for (const p of pids) {
    try {
      process.kill(p, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline) {
    pids = pids.filter((p) => pidAlive(p));
    if (pids.length === 0) return;
    await sleep(25);
  }
  for (const p of await netnsPids(name)) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (let i = 0; i < 50 && (await netnsPids(name)).some((p) => pidAlive(p)); i++) await sleep(20);
}

async function otherBridgeOn(mgmt: { base: number; prefix: number; text: string }, ours: string): Promise<string | null> {
  const r = await run('ip', ['-o', '-4', 'addr', 'show']);
  for (const line of r.stdout.split('\n')) {
    const m = /^[0-9]+:\s+(\S+)\s+inet\s+([0-9.]+\/[0-9]+)/.exec(line);
    if (!m || m[1] === ours) continue;
    try {
      if (subnetsOverlap(parseSubnet((m[2] as string).replace(/\/(\d+)$/, (_, p: string) => `/${Math.max(8, Math.min(29, Number(p)))}`)), mgmt)) {
        return `${m[1]} (${m[2]})`;
      }
    } catch {
      /* not comparable */
    }
  }
  return null;
}

// ------------------------------------------------------------------ status and control

async function checkHealth(st: TestbedState): Promise<string[]> {
  const problems: string[] = [];
  if (!pidAlive(st.wanemu.pid)) problems.push(`wanemu (pid ${st.wanemu.pid}) is not running`);
  const present = new Set(await listNetns());
  for (const n of st.nodes) if (!present.has(n.netns)) problems.push(`namespace ${n.netns} is missing`);
  if (problems.length === 0) {
    try {
      await wanemuOne(st.wanemu.control, 'ping');
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  return problems;
}

/** Reports what is up; never throws for a missing testbed (up: false). */
export async function status(opts: { stateDir?: string } = {}): Promise<TestbedStatus> {
  const stateDir = stateDirOf(opts);
  const st = await loadState({ stateDir });
  if (!st) return { up: false, healthy: false, problems: [], stateDir, sites: [], nodes: [], links: [] };
  if (!isRoot()) preflight({ needTun: false });
  const problems = await checkHealth(st);
  const present = new Set(await listNetns());
  let ws: WanemuStatus | null = null;
  if (problems.length === 0 || pidAlive(st.wanemu.pid)) {
    try {
      ws = await wanemuOne<WanemuStatus>(st.wanemu.control, 'status');
    } catch {
      ws = null;
    }
  }
  const nodes: NodeStatus[] = st.nodes.map((n) => {
    const w = ws?.nodes.find((x) => x.name === n.name);
    if (ws && !w) problems.push(`wanemu does not know node ${n.name}`);
    if (w && w.site !== n.site) problems.push(`node ${n.name}: state says site ${n.site}, wanemu says ${w.site}`);
    return {
      ...n,
      site: w?.site ?? n.site,
      present: present.has(n.netns) && w !== undefined,
      downMsLeft: w?.downMsLeft ?? 0,
      migrations: w?.migrations ?? 0,
    };
  });
  const res: TestbedStatus = {
    up: true,
    healthy: problems.length === 0,
    problems,
    stateDir,
    prefix: st.prefix,
    wanemu: { pid: st.wanemu.pid, alive: pidAlive(st.wanemu.pid) },
    sites: st.sites,
    nodes,
    links: ws ? linkInfos(st, ws) : st.links.map((l) => ({ ...l, effectiveQueueBytes: null })),
    hostfile: st.hostfile,
    agent: st.agent,
  };
  if (ws && res.wanemu) res.wanemu.uptimeMs = ws.uptimeMs;
  return res;
}

function linkInfos(st: TestbedState, ws: WanemuStatus): LinkInfo[] {
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

export interface SetLinkOptions {
  stateDir?: string;
  /** Round-trip time (each direction gets half). */
  rttMs?: number;
  /** One-way latency; wins over rttMs. */
  latencyMs?: number;
  /** Bits per second or "100mbit"; 0 = unlimited. */
  bandwidth?: number | string;
  queueBytes?: number;
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
  const dirs: [string, string][] = params.oneWay ? [[a, b]] : [[a, b], [b, a]];
  const changed: LinkState[] = [];
  for (const [from, to] of dirs) {
    let l = st.links.find((x) => x.from === from && x.to === to);
    if (!l) {
      l = { from, to, latencyMs: DEFAULT_RTT_MS / 2, bandwidthBps: DEFAULT_BANDWIDTH_BPS, queueBytes: 0 };
      st.links.push(l);
    }
    if (params.latencyMs !== undefined) l.latencyMs = params.latencyMs;
    else if (params.rttMs !== undefined) l.latencyMs = params.rttMs / 2;
    if (params.bandwidth !== undefined) l.bandwidthBps = parseBandwidth(params.bandwidth);
    if (params.queueBytes !== undefined) l.queueBytes = params.queueBytes;
    checkLinkValues(l.latencyMs, l.bandwidthBps, l.queueBytes);
    changed.push(l);
  }
  await wanemuCommand(st.wanemu.control, changed.map(linkCommand));
  await saveState(st);
  return changed;
}

export interface MigrateOptions {
  stateDir?: string;
  /** Stop-and-copy downtime in ms (0 or absent = live migration). */
  downtimeMs?: number;
  /** During downtime, hold packets to/from the node (default) or drop them. */
  mode?: 'hold' | 'drop';
}

export interface MigrateResult {
  node: string;
  from: string;
  to: string;
  downtimeMs: number;
  /** Date.now() when wanemu applied the new placement. */
  at: number;
}

function findNode(st: TestbedState, name: string): NodeState {
  const n = st.nodes.find((x) => x.name === name || x.host === name || x.mgmtIp === name || x.dataIp === name);
  if (!n) throw new TestbedError(`unknown node ${name} (nodes: ${st.nodes.map((x) => x.name).join(', ')})`);
  return n;
}

/** Moves a node to another site; addresses and open connections stay. Idempotent. */
export async function migrate(node: string, site: string, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const st = await requireState(opts);
  const n = findNode(st, node);
  if (!st.sites.includes(site)) throw new TestbedError(`unknown site ${site} (sites: ${st.sites.join(', ')})`);
  const downtimeMs = opts.downtimeMs ?? 0;
  if (!Number.isFinite(downtimeMs) || downtimeMs < 0) throw new TestbedError(`bad downtime ${downtimeMs}`);
  const from = n.site;
  if (from === site) return { node: n.name, from, to: site, downtimeMs: 0, at: Date.now() };
  await wanemuOne(st.wanemu.control, `migrate ${n.name} ${site} ${downtimeMs} ${opts.mode ?? 'hold'}`);
  const at = Date.now();
  n.site = site;
  await saveState(st);
  return { node: n.name, from, to: site, downtimeMs, at };
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
    local: r.local,
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

// ------------------------------------------------------------------ launching MPI jobs

export interface MpirunArgsOptions {
  stateDir?: string;
  /** Restrict the job to these nodes (short names or host names), with their slots. */
  nodes?: string[];
  /** Add --mca mpi_yield_when_idle 1 (default true: the testbed oversubscribes the real cores). */
  yieldWhenIdle?: boolean;
}

/**
 * The mpirun arguments that run a job on the testbed: `mpirun ...mpirunArgs() -np 8 ./app`.
 * Launch goes through the rsh agent into the node namespaces; MPI point-to-point traffic uses
 * the TCP BTL on the data network only, and runtime (OOB) traffic the management network.
 */
export async function mpirunArgs(opts: MpirunArgsOptions = {}): Promise<string[]> {
  const st = await requireState(opts);
  return mpirunArgsFor(st, opts);
}

export function mpirunArgsFor(st: TestbedState, opts: Omit<MpirunArgsOptions, 'stateDir'> = {}): string[] {
  const args: string[] = [];
  if (isRoot()) args.push('--allow-run-as-root');
  if (opts.nodes && opts.nodes.length > 0) {
    const hosts = opts.nodes.map((x) => findNode(st, x));
    args.push('--host', hosts.map((n) => `${n.host}:${n.slots}`).join(','));
  } else {
    args.push('--hostfile', st.hostfile);
  }
  args.push(
    '--mca', 'plm_rsh_agent', st.agent,
    '--mca', 'plm_rsh_no_tree_spawn', '1',
    '--mca', 'pml', 'ob1',
    '--mca', 'osc', '^ucx',
    '--mca', 'btl', 'tcp,self',
    '--mca', 'btl_tcp_if_include', st.dataSubnet,
    '--mca', 'oob_tcp_if_include', st.mgmtSubnet,
  );
  if (opts.yieldWhenIdle !== false) args.push('--mca', 'mpi_yield_when_idle', '1');
  return args;
}

/** Environment for mpirun as root (Open MPI refuses root without these). */
export function mpirunEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1' };
}

/** Runs a command inside a node's namespace (for tools and tests). */
export async function execInNode(node: string, cmd: string[], opts: { stateDir?: string } = {}): Promise<string> {
  const st = await requireState(opts);
  const n = findNode(st, node);
  return await must('ip', ['netns', 'exec', n.netns, ...cmd]);
}
