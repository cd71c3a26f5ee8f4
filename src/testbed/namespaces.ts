// The testbed's network namespaces and its management network: one namespace per node, joined
// to a bridge in the root namespace by a veth pair; and their removal, processes included.
import { ip, ipQuiet, pidAlive, run, sleep } from './sys.js';
import type { TestbedState } from './state.js';
import { parseSubnet, subnetsOverlap, type Subnet } from './units.js';

const MGMT_IFNAME = 'mgmt0';

/** The management bridge and every node's namespace with its management veth. */
export async function createNamespaces(st: TestbedState, mgmt: Subnet): Promise<void> {
  await ip('link', 'add', st.bridge.name, 'type', 'bridge');
  await ip('addr', 'add', `${st.bridge.ip}/${mgmt.prefix}`, 'dev', st.bridge.name);
  await ip('link', 'set', st.bridge.name, 'up');
  for (const n of st.nodes) {
    await ip('netns', 'add', n.netns);
    await ip('-n', n.netns, 'link', 'set', 'lo', 'up');
    await ip('link', 'add', n.vethHost, 'type', 'veth', 'peer', 'name', MGMT_IFNAME, 'netns', n.netns);
    await ip('link', 'set', n.vethHost, 'master', st.bridge.name, 'up');
    await ip('-n', n.netns, 'addr', 'add', `${n.mgmtIp}/${mgmt.prefix}`, 'dev', MGMT_IFNAME);
    await ip('-n', n.netns, 'link', 'set', MGMT_IFNAME, 'up');
  }
}

/**
 * Removes the namespaces named `${prefix}-*` (after ending what runs in them) and the bridge and
 * veth ends left in the root namespace. Returns whether there was anything to remove.
 */
export async function removeNamespaces(prefix: string): Promise<boolean> {
  let removed = false;
  for (const name of await listNetns()) {
    if (!name.startsWith(`${prefix}-`)) continue;
    await killNetnsProcesses(name);
    await ipQuiet('netns', 'del', name);
    removed = true;
  }
  // Deleting a namespace removes its veth pairs asynchronously, so wait until none is left.
  for (let i = 0; i < 100; i++) {
    const left = await rootLinks(prefix);
    if (left.length === 0) break;
    if (i % 10 === 0) {
      for (const name of left) await ipQuiet('link', 'del', name);
    }
    removed = true;
    await sleep(20);
  }
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

/** The file that names a namespace made by `ip netns add NAME` (what its processes' ns/net link to). */
export function netnsFile(name: string): string {
  return `/run/netns/${name}`;
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

/** An interface other than `ours` with an address in the management subnet, if any. */
export async function otherBridgeOn(mgmt: Subnet, ours: string): Promise<string | null> {
  const r = await run('ip', ['-o', '-4', 'addr', 'show']);
  for (const line of r.stdout.split('\n')) {
    const m = /^[0-9]+:\s+(\S+)\s+inet\s+([0-9.]+\/[0-9]+)/.exec(line);
    if (!m || m[1] === ours) continue;
    try {
      if (
        subnetsOverlap(
          parseSubnet(
            (m[2] as string).replace(/\/(\d+)$/, (_, p: string) => `/${Math.max(8, Math.min(29, Number(p)))}`),
          ),
          mgmt,
        )
      ) {
        return `${m[1]} (${m[2]})`;
      }
    } catch {
      /* not comparable */
    }
  }
  return null;
}
