// A testbed's life: up (namespaces, wanemu, launch files, /etc/hosts, in that order, undone on
// failure), status, moving nodes between sites, and down, which also clears the remains of a
// crashed or half-built testbed by its prefix.
import { promises as fs, constants as fsc } from 'node:fs';
import path from 'node:path';

import { addHostsEntries, editHosts } from './hosts.js';
import { writeLaunchFiles } from './launch.js';
import { linkCommand, linkInfos, type LinkInfo } from './links.js';
import { createLans, lanProblems, moveLan } from './lan.js';
import { createNamespaces, listNetns, otherBridgeOn, removeNamespaces } from './namespaces.js';
import { normalizeSpec, planNodes, sameLayout, type TestbedOptions, type TestbedSpec } from './spec.js';
import {
  checkPrefix,
  DEFAULT_DATA_SUBNET,
  DEFAULT_LAN,
  LAN_MODES,
  lanOf,
  DEFAULT_MGMT_SUBNET,
  DEFAULT_MTU,
  isTestbedMtu,
  DEFAULT_PREFIX,
  defaultWanemuPath,
  findNode,
  loadState,
  requireState,
  saveState,
  STATE_FILES,
  stateDirOf,
  type LanMode,
  type NodeState,
  type TestbedState,
} from './state.js';
import { isRoot, pidAlive, preflight, TestbedError } from './sys.js';
import { parseSubnet, subnetHost, subnetsOverlap } from './units.js';
import { wanemuCommand, wanemuOne, type WanemuStatus } from './wanemu.js';
import { configureWanemu, startWanemu, stopWanemu } from './wanemu-process.js';

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
  /** How same-site packets travel. */
  lan?: LanMode;
  wanemu?: { pid: number; alive: boolean; uptimeMs?: number };
  sites: string[];
  nodes: NodeStatus[];
  links: LinkInfo[];
  hostfile?: string;
  agent?: string;
}

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
  if (subnetsOverlap(mgmt, data))
    throw new TestbedError(`management ${mgmt.text} and data ${data.text} subnets overlap`);
  const mtu = opts.mtu ?? DEFAULT_MTU;
  if (!isTestbedMtu(mtu)) throw new TestbedError(`bad MTU ${mtu} (576..65535)`);
  const lan = opts.lan ?? DEFAULT_LAN;
  if (!LAN_MODES.includes(lan)) throw new TestbedError(`bad LAN mode ${String(lan)} (${LAN_MODES.join(' or ')})`);
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
    throw new TestbedError(
      `management subnet ${mgmt.text} is already used by ${taken}; choose another (--mgmt-subnet)`,
    );
  }
  const nodes = planNodes(ns, prefix, mgmt, data);

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
    lan,
    sites: ns.sites.map((s) => s.name),
    nodes,
    links: ns.links,
    wanemu: {
      path: wanemuPath,
      pid: 0,
      control: path.join(stateDir, STATE_FILES.control),
      log: path.join(stateDir, STATE_FILES.log),
      pidfile: path.join(stateDir, STATE_FILES.pidfile),
    },
    hostfile: path.join(stateDir, STATE_FILES.hostfile),
    agent: path.join(stateDir, STATE_FILES.agent),
    hostsMarker: `sitempi-testbed:${prefix}`,
  };
  try {
    await createNamespaces(st, mgmt);
    // wanemu and the data network.
    st.wanemu.pid = await startWanemu(st, ns.links[0]);
    await saveState(st); // from here on, down() can find everything
    await configureWanemu(st, data.prefix, ns.links);
    if (lan === 'kernel') await createLans(st);
    // Launch files and names.
    await writeLaunchFiles(st);
    await addHostsEntries(st);
    await saveState(st);
  } catch (e) {
    await down({ stateDir, prefix }).catch(() => undefined);
    throw e;
  }
  return st;
}

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

async function cleanupByPrefix(prefix: string, stateDir: string, st: TestbedState | null = null): Promise<boolean> {
  let removed = await stopWanemu(stateDir, st);
  if (await removeNamespaces(prefix)) removed = true;
  await editHosts(st?.hostsMarker ?? `sitempi-testbed:${prefix}`, []);
  // Our files in the state directory, and the directory if it is then empty.
  for (const f of Object.values(STATE_FILES)) await fs.rm(path.join(stateDir, f), { force: true });
  await fs.rmdir(stateDir).catch(() => undefined);
  return removed;
}

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
  if (st.lan === 'kernel') problems.push(...(await lanProblems(st)));
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
    lan: lanOf(st),
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

/**
 * Moves a node to another site; addresses and open connections stay. Idempotent. With a kernel
 * LAN it returns after the downtime (the node's new LAN routes wait for its end).
 */
export async function migrate(node: string, site: string, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const st = await requireState(opts);
  const n = findNode(st, node);
  if (!st.sites.includes(site)) throw new TestbedError(`unknown site ${site} (sites: ${st.sites.join(', ')})`);
  const downtimeMs = opts.downtimeMs ?? 0;
  if (!Number.isFinite(downtimeMs) || downtimeMs < 0) throw new TestbedError(`bad downtime ${downtimeMs}`);
  const from = n.site;
  if (from === site) return { node: n.name, from, to: site, downtimeMs: 0, at: Date.now() };
  let at = 0;
  const applyMove = async (): Promise<void> => {
    await wanemuOne(st.wanemu.control, `migrate ${n.name} ${site} ${downtimeMs} ${opts.mode ?? 'hold'}`);
    at = Date.now();
  };
  if (st.lan === 'kernel') await moveLan(st, n, site, downtimeMs, applyMove);
  else await applyMove();
  n.site = site;
  await saveState(st);
  return { node: n.name, from, to: site, downtimeMs, at };
}
