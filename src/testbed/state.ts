// A testbed's state: what `up` built (nodes, links, wanemu, launch files), kept as JSON in the
// state directory so that every later command, and `down` after a crash, can find it.
import { promises as fs } from 'node:fs';
import path from 'node:path';

import { wanemuPath } from '../native/paths.js';
import { TestbedError, writeFileAtomic } from './sys.js';

export const DEFAULT_STATE_DIR = '/run/sitempi-testbed';
export const DEFAULT_PREFIX = 'smpi';
export const DEFAULT_MGMT_SUBNET = '198.18.0.0/16';
export const DEFAULT_DATA_SUBNET = '198.19.0.0/16';
export const DEFAULT_MTU = 65000;
/** The MTUs the testbed accepts (IPv4's least datagram to the largest a veth takes). */
export function isTestbedMtu(mtu: number): boolean {
  return Number.isInteger(mtu) && mtu >= 576 && mtu <= 65535;
}
/** How same-site packets travel: a kernel bridge per site (src/testbed/lan.ts) or through wanemu. */
export type LanMode = 'kernel' | 'emulated';
export const LAN_MODES: readonly LanMode[] = ['kernel', 'emulated'];
export const DEFAULT_LAN: LanMode = 'emulated';
/** The LAN mode of a state (or benchmark results) written before the option: every packet went
 * through wanemu. */
export const lanOf = (x: { lan?: LanMode }): LanMode => x.lan ?? 'emulated';
export const DEFAULT_RTT_MS = 10;
export const DEFAULT_BANDWIDTH_BPS = 1e9;

/** The files of a testbed in its state directory (`down` removes exactly these). */
export const STATE_FILES = {
  state: 'state.json',
  hostfile: 'hostfile',
  agent: 'rsh-agent',
  control: 'wanemu.sock',
  pidfile: 'wanemu.pid',
  log: 'wanemu.log',
} as const;

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
  /** How same-site packets travel (src/testbed/lan.ts); absent in older state files: emulated. */
  lan?: LanMode;
  sites: string[];
  nodes: NodeState[];
  links: LinkState[];
  wanemu: { path: string; pid: number; control: string; log: string; pidfile: string };
  hostfile: string;
  agent: string;
  hostsMarker: string;
}

export function stateDirOf(opts?: { stateDir?: string | undefined }): string {
  return path.resolve(opts?.stateDir ?? process.env['SITEMPI_TESTBED_DIR'] ?? DEFAULT_STATE_DIR);
}

export function checkPrefix(prefix: string): string {
  if (!/^[a-z][a-z0-9]{0,9}$/.test(prefix)) {
    throw new TestbedError(`bad prefix "${prefix}": 1-10 lowercase letters or digits, starting with a letter`);
  }
  return prefix;
}

/** The wanemu binary of this package's native build (src/native/paths.ts: $SITEMPI_BUILD_DIR/wanemu). */
export function defaultWanemuPath(): string {
  return wanemuPath;
}

export async function loadState(opts?: { stateDir?: string }): Promise<TestbedState | null> {
  const file = path.join(stateDirOf(opts), STATE_FILES.state);
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

export async function saveState(st: TestbedState): Promise<void> {
  await writeFileAtomic(path.join(st.stateDir, STATE_FILES.state), `${JSON.stringify(st, null, 2)}\n`);
}

export async function requireState(opts?: { stateDir?: string }): Promise<TestbedState> {
  const st = await loadState(opts);
  if (!st)
    throw new TestbedError(`no testbed is up (no state in ${stateDirOf(opts)}); run \`sitempi testbed up\` first`);
  return st;
}

/** A node by short name, host name or either address. */
export function findNode(st: TestbedState, name: string): NodeState {
  const n = st.nodes.find((x) => x.name === name || x.host === name || x.mgmtIp === name || x.dataIp === name);
  if (!n) throw new TestbedError(`unknown node ${name} (nodes: ${st.nodes.map((x) => x.name).join(', ')})`);
  return n;
}
