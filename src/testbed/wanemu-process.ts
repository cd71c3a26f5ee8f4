// The testbed's wanemu process: started detached with its control socket and log in the state
// directory, given the nodes (one TUN device each, on the data network) and the links, and found
// again for `down` even when the state file is gone.
import { spawn } from 'node:child_process';
import { closeSync, openSync, promises as fs } from 'node:fs';
import path from 'node:path';

import { linkCommand } from './links.js';
import { STATE_FILES, type LinkState, type TestbedState } from './state.js';
import { cmdline, sleep, terminate, TestbedError } from './sys.js';
import { wanemuCommand, wanemuOne } from './wanemu.js';

/** Name of each node's TUN device (in its namespace). */
const DATA_IFNAME = 'wan0';

/** Starts wanemu and waits until it answers on its control socket; returns its pid. */
export async function startWanemu(st: TestbedState, first: LinkState | undefined): Promise<number> {
  await fs.rm(st.wanemu.control, { force: true });
  const log = openSync(st.wanemu.log, 'a');
  const args = ['--control', st.wanemu.control, '--pidfile', st.wanemu.pidfile, '--mtu', String(st.mtu)];
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

/** Gives a started wanemu the nodes (their TUN devices on the data network) and the links. */
export async function configureWanemu(st: TestbedState, dataPrefix: number, links: LinkState[]): Promise<void> {
  const cmds = st.nodes.map(
    (n) => `node-add ${n.name} ${n.site} ${n.dataIp}/${dataPrefix} ${n.netns} ${DATA_IFNAME} ${st.mtu}`,
  );
  cmds.push(...links.map(linkCommand));
  await wanemuCommand(st.wanemu.control, cmds, 15000);
}

/**
 * Ends the wanemu of a state directory (closing its TUN fds removes the TUN devices): the one the
 * state or the pidfile names, or any wanemu whose control socket is there. Returns whether one ran.
 */
export async function stopWanemu(stateDir: string, st: TestbedState | null): Promise<boolean> {
  const pids = await wanemuPids(stateDir, st);
  for (const pid of pids) await terminate(pid);
  return pids.length > 0;
}

async function wanemuPids(stateDir: string, st: TestbedState | null): Promise<number[]> {
  const control = path.join(stateDir, STATE_FILES.control);
  const pids = new Set<number>();
  const candidates: number[] = [];
  if (st?.wanemu.pid) candidates.push(st.wanemu.pid);
  try {
    const p = Number((await fs.readFile(path.join(stateDir, STATE_FILES.pidfile), 'utf8')).trim());
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
