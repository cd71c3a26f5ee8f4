// The manager's jobs through Slurm (`sitempi manager --slurm`): Slurm owns the queue, accounting and
// allocation; sitempi chooses where a job goes and says so with sbatch's options (the nodes it
// chose when the job fits now, else the sites it may wait for: docs/slurm.md), follows each job
// with squeue, cancels with scancel, and keeps Slurm's node features (site_<SITE>) equal to where
// each node is now, after a relocation as at start.
import fs from 'node:fs';
import path from 'node:path';
import type { LaunchContext } from './launcher.js';
import { Cluster, type NodeShare } from './cluster.js';
import type { JobRecord } from './job-record.js';
import { choosePlacement, type PlacementHint } from './placement.js';
import {
  decodeExitStatus,
  ENDED,
  SlurmCli,
  siteFeature,
  withSite,
  type SlurmJob,
  type SlurmNode,
} from './slurm-cli.js';
import { batchScript, sbatchArgs, type SlurmPlacement } from './slurm-script.js';

export interface SlurmOptions {
  /** slurm.conf (SLURM_CONF of every Slurm command); default Slurm's own. */
  conf?: string;
  partition?: string;
  /** squeue every pollMs while jobs are followed (default 1000). */
  pollMs?: number;
  /** Where each node (cluster name) is now; default the cluster's sites. On the testbed: its state. */
  sitesNow?: () => Promise<ReadonlyMap<string, string>>;
}

/** What the manager gives the Slurm side: the cluster, the launch context and its callbacks. */
export interface SlurmHost extends LaunchContext {
  /** Nodes the manager would give a job (not stale). */
  usable: (node: string) => boolean;
  /** Where a job of this name should go, from its past runs (placement.ts). */
  hint: (name: string) => PlacementHint;
  /** Slurm started the job on these nodes (its allocation). */
  started: (rec: JobRecord, shares: NodeShare[]) => void;
  ended: (rec: JobRecord, r: { exitCode: number | null; signal: string | null; error?: string }) => void;
  say: (m: string) => void;
  /** Resolves when no plan's moves are under way (the nodes are where the model says). */
  settled?: () => Promise<void>;
}

interface Followed {
  rec: JobRecord;
  jobKey: string;
  slurmId?: string;
  /** The nodes and slots sitempi asked for, held in its view until Slurm shows the allocation. */
  planned: NodeShare[];
  seenRunning: boolean;
  /** Polls in a row that did not list the job. */
  missing: number;
}

/** Polls a job may be absent from squeue (just submitted, or purged) before it counts as lost. */
const LOST_AFTER_POLLS = 10;
/** Poll features against Slurm itself every this many polls even when no node moved. */
const RECHECK_FEATURES = 10;

export class SlurmJobs {
  private readonly cli: SlurmCli;
  private readonly followed = new Map<string, Followed>();
  /** cluster node name ↔ Slurm NodeName (the node's host). */
  private readonly toSlurm = new Map<string, string>();
  private readonly fromSlurm = new Map<string, string>();
  private applied = new Map<string, string>();
  private submitting: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private polls = 0;
  private lastError = '';
  private closed = false;

  constructor(
    private readonly o: SlurmOptions,
    private readonly host: SlurmHost,
  ) {
    this.cli = new SlurmCli({ conf: o.conf });
    for (const n of host.cluster.nodes) {
      if (this.fromSlurm.has(n.host))
        throw new Error(`with --slurm every node needs a host of its own (its Slurm NodeName): ${n.host} is shared`);
      this.toSlurm.set(n.name, n.host);
      this.fromSlurm.set(n.host, n.name);
    }
  }

  /** Checks that Slurm knows every node, puts their site features right, starts following. */
  async start(): Promise<void> {
    const known = new Set((await this.cli.nodes()).map((n) => n.name));
    const missing = [...this.toSlurm.values()].filter((h) => !known.has(h));
    if (missing.length)
      throw new Error(`Slurm has no node ${missing.join(', ')} (a node's host is its Slurm NodeName)`);
    await this.syncFeatures(true);
    this.timer = setInterval(() => void this.poll(), this.o.pollMs ?? 1000);
    this.timer.unref();
  }

  /** Hands a job to Slurm (in the background: the record fails if sbatch refuses it). */
  submit(rec: JobRecord, jobKey: string): void {
    const f: Followed = { rec, jobKey, planned: [], seenRunning: false, missing: 0 };
    this.followed.set(rec.id, f);
    // One sbatch at a time: each placement sees the nodes the previous one asked for.
    this.submitting = this.submitting.then(() => this.sbatch(f));
  }

  private async sbatch(f: Followed): Promise<void> {
    const { rec } = f;
    if (this.closed || rec.cancelRequested) return this.end(f, { exitCode: null, signal: null });
    try {
      // as the built-in queue: a plan's nodes are in flux until it is done (a node asked for now
      // could be on another site when the job starts)
      await this.host.settled?.();
      if (this.closed || rec.cancelRequested) return this.end(f, { exitCode: null, signal: null });
      await this.syncFeatures(false); // Slurm's site features where the plan left the nodes
      const where = this.placement(rec, await this.cli.nodes(), f);
      const script = path.join(path.dirname(rec.files.stdout), `${rec.id}.sbatch`);
      fs.writeFileSync(script, batchScript(rec, { ...this.host, withToken: Boolean(this.host.token) }), {
        mode: 0o700,
      });
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        SITEMPI_JOB_KEY: f.jobKey,
        SITEMPI_TOKEN: this.host.token ?? '',
      };
      if (process.getuid?.() === 0)
        Object.assign(env, { OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1' });
      f.slurmId = await this.cli.submit(sbatchArgs(rec, where, { partition: this.o.partition, script }), env);
      rec.slurmJob = f.slurmId;
      const how =
        where.kind === 'nodes'
          ? `on ${where.nodes.join(',')}`
          : where.kind === 'one-site'
            ? `waiting for one of sites ${where.sites.join(',')}`
            : 'anywhere';
      this.host.say(`job ${rec.id} is Slurm job ${f.slurmId} (${how})`);
      if (rec.cancelRequested) await this.cli.cancel(f.slurmId);
    } catch (e) {
      rec.error = (e as Error).message;
      this.host.say(`job ${rec.id}: ${rec.error}`);
      if (!f.slurmId) this.end(f, { exitCode: 1, signal: null, error: rec.error });
    }
  }

  /**
   * Where to ask Slurm for the job: sitempi's placement on Slurm's free CPUs now (minus what jobs
   * submitted but not yet started asked for); when it does not fit now, a network-intensive job
   * waits for any one site that can hold it, another job for whatever Slurm gives first.
   */
  private placement(rec: JobRecord, slurm: SlurmNode[], f: Followed): SlurmPlacement {
    const { cluster } = this.host;
    const by = new Map(slurm.map((n) => [n.name, n]));
    // Nodes where they are now; a site that all its nodes have left is no site to place on.
    const nodes = cluster.nodes.map((n) => ({ ...n, site: this.applied.get(n.name) ?? n.site }));
    const sites = cluster.sites.filter((s) => nodes.some((n) => n.site === s));
    const links = cluster.links.filter((l) => sites.includes(l.from) && sites.includes(l.to));
    const view = new Cluster({ sites, nodes, links });
    const held = new Map<string, number>();
    for (const n of view.nodes) held.set(n.name, by.get(n.host)?.allocCpus ?? n.slots);
    for (const other of this.followed.values())
      if (!other.seenRunning) for (const s of other.planned) held.set(s.node, (held.get(s.node) ?? 0) + s.slots);
    for (const n of view.nodes) {
      const k = Math.min(n.slots, held.get(n.name) ?? 0);
      if (k > 0) view.allocate('~slurm', [{ node: n.name, slots: k }]);
    }
    const up = (node: string) => {
      const s = by.get(view.node(node).host);
      return Boolean(s) && ['idle', 'mixed'].includes(s!.state) && !s!.flags.some((x) => /DRAIN|DOWN|FAIL/.test(x));
    };
    const hint = this.host.hint(rec.name);
    const shares = choosePlacement(view, rec.np, hint, (n) => up(n) && this.host.usable(n));
    if (shares) {
      f.planned = shares;
      return {
        kind: 'nodes',
        nodes: shares.map((s) => view.node(s.node).host),
        sites: [...new Set(shares.map((s) => view.node(s.node).site))],
      };
    }
    const holds = view.sites.filter((s) => view.capacity(s) >= rec.np);
    return hint === 'network' && holds.length > 0 ? { kind: 'one-site', sites: holds } : { kind: 'anywhere' };
  }

  /** scancel (now, or as soon as sbatch has answered). */
  cancel(rec: JobRecord): string {
    const f = this.followed.get(rec.id);
    if (!f) throw new Error(`job ${rec.id} is not Slurm's`);
    rec.cancelRequested = true;
    if (f.slurmId) this.cli.cancel(f.slurmId).catch((e: Error) => this.host.say(`job ${rec.id}: ${e.message}`));
    return 'cancelling';
  }

  private async poll(): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    try {
      this.polls++;
      if ([...this.followed.values()].some((f) => f.slurmId)) this.follow(await this.cli.jobs());
      await this.syncFeatures(this.polls % RECHECK_FEATURES === 0);
      this.lastError = '';
    } catch (e) {
      // Slurm unreachable for a while: say it once, keep the jobs, try again next poll.
      const m = (e as Error).message;
      if (m !== this.lastError) this.host.say(`slurm: ${m}`);
      this.lastError = m;
    } finally {
      this.polling = false;
    }
  }

  private follow(jobs: Map<string, SlurmJob>): void {
    for (const f of [...this.followed.values()]) {
      if (!f.slurmId) continue;
      const j = jobs.get(f.slurmId);
      if (!j) {
        if (++f.missing >= LOST_AFTER_POLLS)
          this.end(f, { exitCode: null, signal: null, error: `Slurm no longer knows job ${f.slurmId}` });
        continue;
      }
      f.missing = 0;
      if (!f.seenRunning && j.nodes.length > 0) {
        f.seenRunning = true;
        const outside = j.nodes.filter((n) => !this.fromSlurm.has(n.node)).map((n) => n.node);
        if (outside.length)
          this.host.say(`job ${f.rec.id}: Slurm also gave it ${outside.join(',')}, not in the cluster`);
        const shares = j.nodes
          .filter((n) => this.fromSlurm.has(n.node))
          .map((n) => ({ node: this.fromSlurm.get(n.node)!, slots: n.cpus }));
        this.host.started(f.rec, shares);
      }
      if (!ENDED.has(j.state)) continue;
      if (j.state === 'CANCELLED') f.rec.cancelRequested = true;
      const r = j.exitStatus === null ? { exitCode: null, signal: null } : decodeExitStatus(j.exitStatus);
      const error = j.state === 'COMPLETED' || j.state === 'FAILED' || j.state === 'CANCELLED' ? undefined : j.state;
      this.end(f, { ...r, error });
    }
  }

  private end(f: Followed, r: { exitCode: number | null; signal: string | null; error?: string }): void {
    if (!this.followed.delete(f.rec.id)) return;
    this.host.ended(f.rec, r);
  }

  /** Slurm's site features equal to where the nodes are now (only what changed, or all on `check`). */
  private async syncFeatures(check: boolean): Promise<void> {
    const now = this.o.sitesNow
      ? await this.o.sitesNow()
      : new Map(this.host.cluster.nodes.map((n) => [n.name, n.site]));
    const changed = [...now].filter(([n, s]) => this.toSlurm.has(n) && this.applied.get(n) !== s);
    if (!check && changed.length === 0) return;
    const slurm = new Map((await this.cli.nodes()).map((n) => [n.name, n]));
    for (const [node, site] of now) {
      const name = this.toSlurm.get(node);
      const s = name ? slurm.get(name) : undefined;
      if (!name || !s) continue;
      const want = withSite(s.features, site);
      const has = (l: string[]) => l.filter((x) => x.startsWith('site_')).join() === siteFeature(site);
      if (!has(s.features) || !has(s.activeFeatures)) {
        await this.cli.setFeatures(name, want);
        this.host.say(`slurm: node ${name} is on site ${site} (features ${want.join(',')})`);
      }
      this.applied.set(node, site);
    }
  }

  /** Stops following; jobs still in Slurm are cancelled and awaited (at most `waitMs`). */
  async close(waitMs = 20_000): Promise<void> {
    await this.submitting;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    const left = [...this.followed.values()].filter((f) => f.slurmId);
    for (const f of left) {
      f.rec.cancelRequested = true;
      await this.cli.cancel(f.slurmId!).catch(() => {});
    }
    const end = Date.now() + waitMs;
    while (this.followed.size > 0 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 300));
      try {
        this.follow(await this.cli.jobs());
      } catch {
        break;
      }
    }
    for (const f of [...this.followed.values()]) this.end(f, { exitCode: null, signal: null, error: 'manager closed' });
  }
}
