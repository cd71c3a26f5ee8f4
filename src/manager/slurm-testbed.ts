// A real Slurm on the testbed, for tests and demonstrations: munged with a key of its own, a
// slurm.conf generated for the testbed's nodes (NodeName = the node's host, NodeAddr = its
// management address, Features = site_<SITE>), slurmctld in the root namespace and one slurmd per
// node namespace, each in a UTS namespace named after its node (the ranks' host name is the node's).
// Everything lives in one directory per testbed prefix; stop() (or the next start) ends the
// daemons by their pid files and removes it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireState, type TestbedState } from '../testbed/state.js';
import { must, pidAlive, sleep } from '../testbed/sys.js';
import { SlurmCli, siteFeature } from './slurm-cli.js';

export interface SlurmTestbedOptions {
  /** slurmctld's and the slurmds' ports (defaults 6917 and 6918: not a system Slurm's 6817/6818). */
  ctldPort?: number;
  slurmdPort?: number;
  /** The directory (default $TMPDIR/sitempi-slurm-<prefix>); removed by stop(). */
  dir?: string;
  /** Longest wait for every node to be idle, ms (default 30000). */
  timeoutMs?: number;
}

export interface SlurmOnTestbed {
  dir: string;
  /** The slurm.conf to give every Slurm command (SLURM_CONF). */
  conf: string;
  partition: string;
  stop(): Promise<void>;
}

const PARTITION = 'sitempi';

export function slurmConf(st: TestbedState, dir: string, o: { ctldPort: number; slurmdPort: number }): string {
  const ctl = os.hostname().split('.')[0];
  const nodes = st.nodes.map(
    (n) => `NodeName=${n.host} NodeAddr=${n.mgmtIp} CPUs=${n.slots} Features=${siteFeature(n.site)} State=UNKNOWN`,
  );
  return `# sitempi: Slurm for testbed ${st.prefix} (generated)
ClusterName=${st.prefix}
SlurmctldHost=${ctl}(${st.bridge.ip})
SlurmctldPort=${o.ctldPort}
SlurmdPort=${o.slurmdPort}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=${dir}/munge.sock
StateSaveLocation=${dir}/state
SlurmdSpoolDir=${dir}/spool/%n
SlurmctldPidFile=${dir}/slurmctld.pid
SlurmdPidFile=${dir}/slurmd-%n.pid
SlurmctldLogFile=${dir}/slurmctld.log
SlurmdLogFile=${dir}/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
MinJobAge=300
KillWait=2
InactiveLimit=0
${nodes.join('\n')}
PartitionName=${PARTITION} Nodes=ALL Default=YES MaxTime=INFINITE State=UP
`;
}

/** Ends what a directory's pid files name (TERM, then KILL), then removes the directory. */
async function cleanUp(dir: string): Promise<void> {
  let files: string[] = [];
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith('.pid'));
  } catch {
    return;
  }
  const pids: number[] = [];
  for (const f of files) {
    const pid = Number(fs.readFileSync(path.join(dir, f), 'utf8').trim());
    if (Number.isInteger(pid) && pid > 1 && pidAlive(pid)) pids.push(pid);
  }
  for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
    for (const p of pids)
      try {
        process.kill(p, sig);
      } catch {
        /* gone */
      }
    for (let i = 0; i < 50 && pids.some(pidAlive); i++) await sleep(100);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Starts munged, slurmctld and a slurmd per node; resolves when every node is idle. */
export async function startSlurmOnTestbed(st: TestbedState, o: SlurmTestbedOptions = {}): Promise<SlurmOnTestbed> {
  const dir = o.dir ?? path.join(os.tmpdir(), `sitempi-slurm-${st.prefix}`);
  await cleanUp(dir); // what an earlier run left
  fs.mkdirSync(path.join(dir, 'state'), { recursive: true, mode: 0o700 });
  for (const n of st.nodes) fs.mkdirSync(path.join(dir, 'spool', n.host), { recursive: true });
  const conf = path.join(dir, 'slurm.conf');
  const stop = () => cleanUp(dir);
  try {
    fs.writeFileSync(path.join(dir, 'munge.key'), crypto.randomBytes(1024), { mode: 0o400 });
    await must('munged', [
      '--force', // root, and a socket directory only root can enter
      `--socket=${dir}/munge.sock`,
      `--key-file=${dir}/munge.key`,
      `--log-file=${dir}/munged.log`,
      `--pid-file=${dir}/munged.pid`,
      `--seed-file=${dir}/munged.seed`,
    ]);
    fs.writeFileSync(conf, slurmConf(st, dir, { ctldPort: o.ctldPort ?? 6917, slurmdPort: o.slurmdPort ?? 6918 }));
    // The machine's cgroups are v1 controllers under a tmpfs: no cgroup plugin is used (task/none,
    // proctrack/linuxproc) but slurmd initialises one all the same.
    fs.writeFileSync(path.join(dir, 'cgroup.conf'), 'CgroupPlugin=cgroup/v1\nCgroupAutomount=no\n');
    await must('slurmctld', ['-f', conf]);
    for (const n of st.nodes)
      await must('ip', [
        'netns',
        'exec',
        n.netns,
        'unshare',
        '--uts',
        'sh',
        '-c',
        'hostname "$0" && exec slurmd -f "$1" -N "$0"',
        n.host,
        conf,
      ]);
    const cli = new SlurmCli({ conf, timeoutMs: 5000 });
    const end = Date.now() + (o.timeoutMs ?? 30_000);
    for (;;) {
      const nodes = await cli.nodes().catch(() => []);
      if (nodes.length === st.nodes.length && nodes.every((n) => n.state === 'idle')) break;
      if (Date.now() > end)
        throw new Error(
          `Slurm on testbed ${st.prefix}: nodes not idle after ${o.timeoutMs ?? 30_000} ms (${nodes
            .map((n) => `${n.name} ${n.state}`)
            .join(', ')}); logs in ${dir}`,
        );
      await sleep(300);
    }
  } catch (e) {
    const log = (f: string) => {
      try {
        return fs.readFileSync(path.join(dir, f), 'utf8').trim().split('\n').slice(-3).join('\n');
      } catch {
        return '';
      }
    };
    const tail = ['slurmctld.log', `slurmd-${st.nodes[0].host}.log`].map(log).filter(Boolean).join('\n');
    await stop();
    throw new Error(`${(e as Error).message}${tail ? `\n${tail}` : ''}`);
  }
  return { dir, conf, partition: PARTITION, stop };
}

/** Where the testbed's nodes are now (a `migrate` changes it): SlurmOptions.sitesNow on the testbed. */
export function testbedSites(stateDir: string): () => Promise<ReadonlyMap<string, string>> {
  return async () => new Map((await requireState({ stateDir })).nodes.map((n) => [n.name, n.site]));
}
