// The manager service: a queue of MPI jobs on a cluster model. It starts each job when its slots
// are free (queue.ts), on the fewest sites (placement.ts), under the shim with an embedded monitor
// (launcher.ts), follows it to its end and keeps the service up whatever the job does. Clients and
// node agents talk to it over the control socket (control.ts); every change goes to the event log.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { classify } from '../monitor/classify.js';
import type { JobProfile } from '../monitor/job.js';
import { Monitor } from '../monitor/monitor.js';
import type { TestbedState } from '../testbed/state.js';
import type { Cluster, NodeShare } from './cluster.js';
import { ControlServer, type Reply, type Request } from './control.js';
import { EventLog, readEventLog } from './event-log.js';
import { jobView, type JobRecord } from './job-record.js';
import { checkMpirunArgs, exitCodeOf, launch, terminate, type LaunchContext, type Launched } from './launcher.js';
import { checkSample, NodeUsage } from './node-usage.js';
import { choosePlacement, placementHint } from './placement.js';
import type { PlannerOptions } from './planner.js';
import { DEFAULT_QUEUE_RULES, schedule, type QueueRules } from './queue.js';
import { SlurmJobs, type SlurmOptions } from './slurm-jobs.js';
import { Relocator } from './relocate.js';
import { pastRuns } from './remaining.js';
import { lastTraffic, releasesOf, waitRather } from './start-rule.js';
import type { HistoryRecorder } from '../history/recorder.js';
import type { Executor } from '../placement/executor.js';

export interface ManagerOptions {
  cluster: Cluster;
  /** Where the event log, the monitor's socket and the jobs' files go. */
  dir: string;
  /** Token of the control socket and of the ranks (none: any local client, as the monitor). */
  token?: string;
  testbed?: TestbedState | null;
  mpirun?: string;
  shim: string;
  /** SIGTERM → SIGKILL grace of a cancel, ms (default 5000). */
  graceMs?: number;
  rules?: Partial<QueueRules>;
  /** Samples a node may miss before it is stale (default 3). */
  staleAfter?: number;
  log?: (m: string) => void;
  /** The job history: ended jobs are written to it, and a job starts where its name's last verdict says. */
  history?: HistoryRecorder;
  /** Jobs go to Slurm (its queue and allocation) instead of the built-in queue: docs/slurm.md. */
  slurm?: SlurmOptions;
  /**
   * The planner moves running jobs (default true where an executor is: the testbed's, or `executor`).
   * Off: jobs still get their placements, nothing moves.
   */
  relocate?: boolean;
  /** Executor of the moves (default on the testbed: its own, src/placement/testbed-executor.ts). */
  executor?: Executor;
  planner?: PlannerOptions;
  /** Periodic plan, ms (default 5000). */
  planTickMs?: number;
}

/** Jobs waiting at most; a submission beyond is refused. Ended jobs kept for `jobs`. */
const MAX_QUEUED = 10_000;
/** A year: `--time` above it is a mistake. */
const MAX_TIME_SECONDS = 365 * 86_400;
const KEEP_ENDED = 1000;
const MAX_ARGS = 4096;

export class Manager {
  readonly cluster: Cluster;
  readonly usage: NodeUsage;
  private readonly opts: ManagerOptions;
  private readonly rules: QueueRules;
  private readonly jobs = new Map<string, JobRecord>();
  private readonly queue: JobRecord[] = [];
  private readonly running = new Map<string, Launched>();
  private readonly byMonitorJob = new Map<string, JobRecord>();
  private readonly monitor: Monitor;
  private readonly control: ControlServer;
  private log!: EventLog;
  private monitorAddr = '';
  private nextId = 1;
  private closing = false;
  private staleTimer: NodeJS.Timeout | null = null;
  private slurm: SlurmJobs | null = null;
  private readonly say: (m: string) => void;
  /** The planner and its executor (null: no executor, jobs stay where they start). */
  relocator: Relocator | null = null;

  constructor(o: ManagerOptions) {
    this.opts = o;
    this.cluster = o.cluster;
    this.rules = { ...DEFAULT_QUEUE_RULES, ...o.rules };
    this.usage = new NodeUsage(o.staleAfter);
    this.say = o.log ?? (() => {});
    this.monitor = new Monitor({ token: o.token, lingerMs: 1000, requireJobKey: true });
    this.monitor.on('error', (e) => this.say(`monitor: ${e.message}`));
    this.monitor.on('jobEnd', (job) => void this.onMonitorEnd(job));
    this.control = new ControlServer(
      o.token,
      (r) => this.handle(r),
      (e) => this.say(`control: ${e.message}`),
    );
  }

  /** Starts the service; resolves with the control addresses. */
  async start(listen: string[]): Promise<string[]> {
    fs.mkdirSync(path.join(this.opts.dir, 'jobs'), { recursive: true, mode: 0o700 });
    const logFile = path.join(this.opts.dir, 'events.jsonl');
    // Ids go on from an earlier run in the same directory: job files are never overwritten.
    if (fs.existsSync(logFile))
      for (const e of readEventLog(logFile))
        if (e.type === 'submit') this.nextId = Math.max(this.nextId, Number(e.job) + 1 || 0);
    this.log = new EventLog(logFile);
    this.log.write({
      type: 'cluster',
      nodes: this.cluster.nodes.map((n) => ({ name: n.name, site: n.site, slots: n.slots })),
    });
    [this.monitorAddr] = await this.monitor.listen(`unix:${path.join(this.opts.dir, 'monitor.sock')}`);
    if (this.opts.slurm)
      await this.startSlurm(this.opts.slurm).catch(async (e: unknown) => {
        await this.monitor.close(); // a Slurm that cannot be used: nothing is left listening
        this.log.close();
        throw e;
      });
    await this.startRelocator();
    const addrs = await this.control.listen(listen);
    this.staleTimer = setInterval(() => {
      this.checkStale();
      this.checkLimits(Date.now());
    }, 250);
    this.staleTimer.unref();
    return addrs;
  }

  private async startRelocator(): Promise<void> {
    const o = this.opts;
    let executor = o.executor;
    let moveFreeNode: ((node: string, site: string) => Promise<void>) | undefined;
    if (!executor && o.testbed) {
      const { TestbedExecutor } = await import('../placement/testbed-executor.js');
      const { migrate } = await import('../testbed/testbed.js');
      const stateDir = o.testbed.stateDir;
      // The manager keeps the sites within their slots itself (relocate-moves.ts).
      executor = new TestbedExecutor({ stateDir, maxNodesPerSite: Infinity });
      moveFreeNode = async (node, site) => void (await migrate(node, site, { stateDir, downtimeMs: 0 }));
    }
    if (!executor) return;
    this.relocator = new Relocator(
      {
        cluster: this.cluster,
        monitor: this.monitor,
        running: () => this.runningRecords(),
        log: (ev) => this.log.write(ev),
        say: this.say,
        settled: () => this.kick(),
        pastRuns: (name) => pastRuns(this.opts.history?.store, name),
      },
      { enabled: o.relocate ?? true, executor, moveFreeNode, planner: o.planner, tickMs: o.planTickMs },
    );
    await this.relocator.start();
  }

  private handle(r: Request): Reply {
    switch (r.op) {
      case 'submit':
        return { id: this.submit(r) };
      case 'jobs':
        return { jobs: this.jobViews() };
      case 'cancel':
        return { state: this.cancel(String(r.id)) };
      case 'nodes':
        return { nodes: this.nodesView() };
      case 'usage':
        this.onUsage(r);
        return {};
      default:
        throw new Error(`unknown op ${r.op}`);
    }
  }

  /** What `sitempi jobs` shows. */
  jobViews(): ReturnType<typeof jobView>[] {
    return [...this.jobs.values()].map(jobView);
  }

  submit(r: Record<string, unknown>): string {
    const strings = (v: unknown, what: string): string[] => {
      if (!Array.isArray(v) || v.length > MAX_ARGS || !v.every((x) => typeof x === 'string'))
        throw new Error(`${what} must be an array of at most ${MAX_ARGS} strings`);
      return v as string[];
    };
    const np = r.np;
    if (typeof np !== 'number' || !Number.isInteger(np) || np < 1) throw new Error('-np must be a positive integer');
    if (np > this.cluster.capacity())
      throw new Error(`-np ${np} can never run: the cluster has ${this.cluster.capacity()} slots`);
    const app = strings(r.app, 'the program and its arguments');
    if (app.length === 0) throw new Error('a job needs a program');
    const mpirunArgs = strings(r.mpirunArgs ?? [], 'mpirun options');
    checkMpirunArgs(mpirunArgs);
    const cwd = typeof r.cwd === 'string' ? r.cwd : '';
    if (!path.isAbsolute(cwd) || !fs.statSync(cwd, { throwIfNoEntry: false })?.isDirectory())
      throw new Error(`the working directory ${cwd || '(none)'} is not a directory here`);
    // A name of one's own must be clean; the default is the program's, made so.
    const name =
      r.name === undefined
        ? path
            .basename(app[0])
            .replace(/[^\w.@+-]/g, '_')
            .slice(0, 64) || 'job'
        : r.name;
    if (typeof name !== 'string' || !/^[\w.@+-]{1,64}$/.test(name))
      throw new Error('a job name is 1-64 letters, digits, _ . @ + -');
    // --time: the most it runs (stopped there, checkLimits) and a bound on its remaining time for
    // the planner (remaining.ts)
    const time = r.time;
    if (time !== undefined && (typeof time !== 'number' || !(time > 0 && time <= MAX_TIME_SECONDS)))
      throw new Error(`--time must be a number of seconds above 0, at most ${MAX_TIME_SECONDS}`);
    if (this.queue.length >= MAX_QUEUED) throw new Error(`the queue is full (${MAX_QUEUED} jobs)`);
    const id = String(this.nextId++);
    const base = path.join(this.opts.dir, 'jobs', id);
    const rec: JobRecord = {
      id,
      name,
      np,
      app,
      mpirunArgs,
      cwd,
      state: 'queued',
      submittedAt: Date.now(),
      bypassed: 0,
      nodes: [],
      sites: [],
      exitCode: null,
      signal: null,
      verdict: null,
      files: { stdout: `${base}.out`, stderr: `${base}.err`, exit: `${base}.exit`, report: `${base}.report.json` },
      monitorJob: `mgr-${process.pid}-${id}-${crypto.randomBytes(3).toString('hex')}`,
      ...(time !== undefined ? { timeLimitSeconds: time } : {}),
    };
    this.jobs.set(id, rec);
    if (this.slurm) this.slurm.submit(rec, this.registerRanks(rec));
    else this.queue.push(rec);
    this.log.write({ type: 'submit', job: id, name, np });
    this.say(`job ${id} (${name}, ${np} ranks) queued`);
    this.kick();
    return id;
  }

  cancel(id: string): string {
    const rec = this.jobs.get(id);
    if (!rec) throw new Error(`no job ${id}`);
    if (this.slurm && (rec.state === 'queued' || rec.state === 'running')) {
      this.log.write({ type: 'cancel', job: id, was: rec.state });
      return this.slurm.cancel(rec);
    }
    if (rec.state === 'queued') {
      this.queue.splice(this.queue.indexOf(rec), 1);
      this.finish(rec, 'cancelled', null, null);
      this.log.write({ type: 'cancel', job: id, was: 'queued' });
      this.kick(); // a job that blocked backfill is gone
      return 'cancelled';
    }
    const l = this.running.get(id);
    if (rec.state === 'running' && l) {
      rec.cancelRequested = true;
      this.log.write({ type: 'cancel', job: id, was: 'running' });
      terminate(l, this.opts.graceMs ?? 5000);
      return 'cancelling';
    }
    throw new Error(`job ${id} has ended (${rec.state})`);
  }

  private runningRecords(): JobRecord[] {
    return [...this.jobs.values()].filter((j) => j.state === 'running');
  }

  /** Starts what the queue rules allow. */
  private kick(): void {
    if (this.closing || this.relocator?.busy) return; // a plan's slots are in flux: after it

    schedule(this.queue, (rec) => this.tryStart(rec), Date.now(), this.rules);
  }

  private tryStart(rec: JobRecord): boolean {
    const store = this.opts.history?.store;
    const shares = choosePlacement(
      this.cluster,
      rec.np,
      placementHint(rec.name, store),
      (n) => this.usage.health(n) !== 'stale',
      (split) =>
        waitRather(
          this.cluster,
          split,
          rec.np,
          lastTraffic(store, rec.name),
          releasesOf(this.runningRecords(), Date.now()),
        ),
    );
    if (!shares) return false;
    this.cluster.allocate(rec.id, shares);
    this.queue.splice(this.queue.indexOf(rec), 1);
    this.markStarted(rec, shares);
    const jobKey = this.registerRanks(rec);
    let l: Launched;
    try {
      l = launch(
        this.launchContext(),
        { ...rec, monitorJob: rec.monitorJob, jobKey, stdout: rec.files.stdout, stderr: rec.files.stderr },
        shares,
      );
    } catch (e) {
      // Files that cannot be written, a bad cwd: the job fails, the service goes on.
      rec.error = (e as Error).message;
      this.running.delete(rec.id);
      setImmediate(() => this.ended(rec, { exitCode: 127, signal: null })); // not inside this scheduling pass
      return true;
    }
    this.running.set(rec.id, l);
    void l.done.then((r) => {
      if (r.error) rec.error = r.error;
      this.ended(rec, r);
    });
    return true;
  }

  private markStarted(rec: JobRecord, shares: readonly NodeShare[]): void {
    rec.nodes = shares.map((s) => ({ ...s, site: this.cluster.node(s.node).site }));
    rec.sites = [...new Set(rec.nodes.map((n) => n.site))];
    rec.state = 'running';
    rec.startedAt = Date.now();
    this.log.write({ type: 'start', job: rec.id, nodes: rec.nodes });
    this.say(`job ${rec.id} started on ${rec.nodes.map((n) => `${n.node}:${n.slots}`).join(',')}`);
    setImmediate(() => this.relocator?.request(`job ${rec.id} started`));
  }

  /** What a launch needs: where the nodes are, mpirun, the shim, the embedded monitor. */
  private launchContext(): LaunchContext {
    return {
      cluster: this.cluster,
      testbed: this.opts.testbed ?? null,
      mpirun: this.opts.mpirun ?? 'mpirun',
      shim: this.opts.shim,
      monitor: this.monitorAddr,
      token: this.opts.token,
    };
  }

  /** The key the job's ranks report under to the embedded monitor. */
  private registerRanks(rec: JobRecord): string {
    const jobKey = crypto.randomBytes(16).toString('hex');
    this.monitor.registerJob(rec.monitorJob, { key: jobKey });
    this.byMonitorJob.set(rec.monitorJob, rec);
    if (rec.name) this.opts.history?.names.set(rec.monitorJob, rec.name);
    return jobKey;
  }

  /** Slurm instead of the built-in queue: Slurm allocates, the manager mirrors its allocation. */
  private async startSlurm(o: SlurmOptions): Promise<void> {
    this.slurm = new SlurmJobs(o, {
      ...this.launchContext(),
      usable: (n) => this.usage.health(n) !== 'stale',
      hint: (name) => placementHint(name, this.opts.history?.store),
      started: (rec, shares) => {
        try {
          this.cluster.allocate(rec.id, shares);
        } catch (e) {
          this.say(`job ${rec.id}: Slurm's allocation disagrees with the manager's model: ${(e as Error).message}`);
        }
        this.markStarted(rec, shares);
      },
      ended: (rec, r) => {
        if (r.error) rec.error = r.error;
        this.ended(rec, r);
      },
      say: this.say,
      settled: async () => {
        while (this.relocator?.busy && !this.closing) await new Promise((r) => setTimeout(r, 100));
      },
    });
    await this.slurm.start();
  }

  private ended(rec: JobRecord, r: { exitCode: number | null; signal: string | null }): void {
    this.running.delete(rec.id);
    this.cluster.release(rec.id);
    const code = exitCodeOf(r);
    // a job stopped at its time limit failed (as Slurm's TIMEOUT), whatever its exit code
    const state = rec.timedOut ? 'failed' : rec.cancelRequested ? 'cancelled' : code === 0 ? 'done' : 'failed';
    this.finish(rec, state, code, r.signal);
    try {
      fs.writeFileSync(rec.files.exit, `${code}\n`, { mode: 0o600 });
    } catch (e) {
      this.say(`job ${rec.id}: cannot write ${rec.files.exit}: ${(e as Error).message}`);
    }
    this.say(`job ${rec.id} ${state} (exit ${code})`);
    this.kick();
    this.relocator?.request(`job ${rec.id} ended`);
  }

  private finish(rec: JobRecord, state: JobRecord['state'], code: number | null, signal: string | null): void {
    rec.state = state;
    rec.exitCode = code;
    rec.signal = signal;
    rec.endedAt = Date.now();
    this.log.write({ type: 'end', job: rec.id, exitCode: code, signal, state });
    // Bounded memory: the oldest ended records go.
    const ended = [...this.jobs.values()].filter((j) => j.endedAt !== undefined);
    for (const old of ended.slice(0, Math.max(0, ended.length - KEEP_ENDED))) this.jobs.delete(old.id);
  }

  private async onMonitorEnd(job: JobProfile): Promise<void> {
    const rec = this.byMonitorJob.get(job.id);
    if (!rec) return;
    this.byMonitorJob.delete(job.id);
    this.monitor.unregisterJob(job.id);
    try {
      await job.prepare();
      rec.verdict = classify(job).verdict;
      this.opts.history?.record(job, null);
      const { buildReportAsync, reportJsonAsync } = await import('../report/report.js');
      fs.writeFileSync(rec.files.report, (await reportJsonAsync(await buildReportAsync([job]))) + '\n', {
        mode: 0o600,
      });
    } catch (e) {
      this.say(`job ${rec.id}: report failed: ${(e as Error).message}`);
    }
  }

  private onUsage(r: Request): void {
    const node = String(r.node);
    this.cluster.node(node); // unknown nodes are refused
    const iv = r.intervalMs;
    if (typeof iv !== 'number' || !(iv >= 100 && iv <= 600_000)) throw new Error('intervalMs must be 100..600000');
    if (this.usage.record(node, checkSample(r.sample), iv, Date.now())) {
      this.log.write({ type: 'fresh', node });
      this.say(`node ${node} reports again`);
      this.kick();
    }
  }

  /** Jobs past their --time: stopped (SIGTERM, then SIGKILL after the grace; scancel through Slurm). */
  private checkLimits(now: number): void {
    for (const rec of this.jobs.values()) {
      if (rec.state !== 'running' || rec.timedOut || rec.cancelRequested || rec.timeLimitSeconds === undefined)
        continue;
      if (now - rec.startedAt! < rec.timeLimitSeconds * 1000) continue;
      rec.timedOut = true;
      rec.error = `time limit of ${rec.timeLimitSeconds} s reached: stopped`;
      this.log.write({ type: 'timeout', job: rec.id, limitSeconds: rec.timeLimitSeconds });
      this.say(`job ${rec.id}: ${rec.error}`);
      const l = this.running.get(rec.id);
      if (l) terminate(l, this.opts.graceMs ?? 5000);
      else this.slurm?.cancel(rec, { quiet: true });
    }
  }

  private checkStale(): void {
    for (const node of this.usage.check(Date.now())) {
      this.log.write({ type: 'stale', node });
      this.say(`node ${node} is stale (no samples)`);
      this.relocator?.request(`node ${node} stale`);
    }
  }

  private nodesView(): Record<string, unknown>[] {
    const now = Date.now();
    return this.cluster.nodes.map((n) => ({
      name: n.name,
      site: n.site,
      host: n.host,
      slots: n.slots,
      used: this.cluster.used(n.name),
      jobs: Object.fromEntries(this.cluster.holders(n.name)),
      health: this.usage.health(n.name),
      usage: this.usage.latest(n.name, now),
    }));
  }

  /** Stops: running jobs are terminated (and awaited), then the sockets and the log close. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.staleTimer) clearInterval(this.staleTimer);
    await this.slurm?.close();
    const left = [...this.running.entries()];
    for (const [id, l] of left) {
      const rec = this.jobs.get(id);
      if (rec) rec.cancelRequested = true;
      terminate(l, this.opts.graceMs ?? 5000);
    }
    await Promise.all(left.map(([, l]) => l.done));
    await this.relocator?.close();
    await this.control.close();
    await this.monitor.close();
    this.log.close();
  }
}
