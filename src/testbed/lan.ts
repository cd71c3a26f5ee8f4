// The sites' LANs (`lan: 'kernel'`): one bridge per site in the root namespace, a veth pair per
// node (`lan0` in the node, on its site's bridge) and, in every node, a host route to each other
// node of its site through `lan0`. Same-site packets then stay in the kernel, as on a real site's
// LAN; without them they pass through wanemu, a user-space hop whose wake-ups, on a host of few
// cores shared with the ranks, decided the 8-node results more than the emulated WAN did.
// Cross-site packets keep the data subnet's route through wanemu's TUN. The routes only shorten
// a path: wanemu still forwards same-site packets when they are absent (during a migration).
import { promises as fs } from 'node:fs';
import path from 'node:path';

import type { NodeState, TestbedState } from './state.js';
import { ip, must, sleep } from './sys.js';

/** Name of each node's LAN veth (in its namespace). */
const LAN_IFNAME = 'lan0';

/** The bridge of a site (root namespace; names ≤ 15 characters, so by index). */
export function lanBridge(st: TestbedState, site: string): string {
  return `${st.prefix}-s${st.sites.indexOf(site)}`;
}

/** The root-namespace end of a node's LAN veth. */
export function lanVeth(st: TestbedState, n: NodeState): string {
  return `${st.prefix}-l${n.index}`;
}

/** Creates the bridges, the veth pairs and the routes of every site. */
export async function createLans(st: TestbedState): Promise<void> {
  const mtu = String(st.mtu);
  for (const site of st.sites) {
    await ip('link', 'add', lanBridge(st, site), 'type', 'bridge');
    await ip('link', 'set', lanBridge(st, site), 'mtu', mtu, 'up');
  }
  for (const n of st.nodes) {
    await ip('link', 'add', lanVeth(st, n), 'type', 'veth', 'peer', 'name', LAN_IFNAME, 'netns', n.netns);
    await ip('link', 'set', lanVeth(st, n), 'mtu', mtu, 'master', lanBridge(st, n.site), 'up');
    await ip('-n', n.netns, 'link', 'set', LAN_IFNAME, 'mtu', mtu, 'up');
  }
  for (const n of st.nodes) await routes(n, peers(st, n, n.site), 'add');
}

/**
 * Moves a node's LAN to another site around `applyMove` (wanemu's migrate): the routes between
 * the node and its old site go first (their packets fall back to wanemu, which still has the old
 * placement), then wanemu moves the node, then, after any downtime (during which wanemu holds or
 * drops the node's packets; a kernel route would let them through), the node joins the new
 * site's bridge and routes.
 */
export async function moveLan(
  st: TestbedState,
  n: NodeState,
  to: string,
  downtimeMs: number,
  applyMove: () => Promise<void>,
): Promise<void> {
  const old = peers(st, n, n.site);
  await routes(n, old, 'del');
  for (const p of old) await routes(p, [n], 'del');
  await applyMove();
  if (downtimeMs > 0) await sleep(downtimeMs);
  await ip('link', 'set', lanVeth(st, n), 'master', lanBridge(st, to));
  const fresh = peers(st, n, to);
  await routes(n, fresh, 'add');
  for (const p of fresh) await routes(p, [n], 'add');
}

/** Bytes and packets the nodes of each site sent into its LAN (the veths' counters). */
export async function lanCounters(st: TestbedState): Promise<{ site: string; bytes: number; packets: number }[]> {
  const out = st.sites.map((site) => ({ site, bytes: 0, packets: 0 }));
  for (const n of st.nodes) {
    const site = out.find((s) => s.site === n.site);
    if (!site) continue;
    // The root end receives what the node sends.
    const dir = `/sys/class/net/${lanVeth(st, n)}/statistics`;
    site.bytes += Number(await fs.readFile(`${dir}/rx_bytes`, 'utf8'));
    site.packets += Number(await fs.readFile(`${dir}/rx_packets`, 'utf8'));
  }
  return out;
}

/** What is wrong with the LANs: a node's veth missing, or on another site's bridge than its own. */
export async function lanProblems(st: TestbedState): Promise<string[]> {
  const problems: string[] = [];
  for (const n of st.nodes) {
    const master = await fs.readlink(`/sys/class/net/${lanVeth(st, n)}/master`).catch(() => null);
    if (master === null) problems.push(`node ${n.name}: LAN veth ${lanVeth(st, n)} is missing or on no bridge`);
    else if (path.basename(master) !== lanBridge(st, n.site))
      problems.push(`node ${n.name}: on the LAN ${path.basename(master)}, not on site ${n.site}'s`);
  }
  return problems;
}

function peers(st: TestbedState, n: NodeState, site: string): NodeState[] {
  return st.nodes.filter((p) => p !== n && p.site === site);
}

/** Adds or deletes, in node n, the host routes to `to` through its LAN (one `ip -batch`). */
async function routes(n: NodeState, to: NodeState[], op: 'add' | 'del'): Promise<void> {
  if (to.length === 0) return;
  const lines = to.map((p) => `route ${op} ${p.dataIp}/32 dev ${LAN_IFNAME}`).join('\n');
  await must('ip', ['-n', n.netns, '-batch', '-'], `${lines}\n`);
}
