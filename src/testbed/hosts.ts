// /etc/hosts entries of a testbed's nodes (their management addresses), so that mpirun and its
// daemons resolve the node host names. Each line carries a marker of its testbed.
import { promises as fs } from 'node:fs';

import type { TestbedState } from './state.js';

const HOSTS_FILE = '/etc/hosts';

/** Replaces the lines marked `marker` with `add` (none: removes them). */
export async function editHosts(marker: string, add: string[]): Promise<void> {
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

export async function addHostsEntries(st: TestbedState): Promise<void> {
  await editHosts(
    st.hostsMarker,
    st.nodes.map((n) => `${n.mgmtIp}\t${n.host}`),
  );
}
