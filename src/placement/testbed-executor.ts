// The testbed executor: relocates ranks by migrating testbed nodes (wanemu `migrate`: the node's
// network moves to the other site, its addresses and open connections stay), and reads where the
// ranks are from wanemu: rank -> Hello.host -> node -> the node's site now.
//
// Moves made outside the monitor (`sitempi testbed migrate b0 A` typed by hand) are seen by polling
// wanemu's `status` on its control socket every `pollMs` (default 200 ms; one Unix-socket round
// trip, no process started) and, to notice them sooner, by watching the testbed state directory:
// `migrate` rewrites state.json right after wanemu applied the move, which triggers a poll at once.
// wanemu has no subscription of its own; the poll is the source of truth.
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_STATE_DIR, loadState, migrate, type TestbedState } from '../testbed/testbed.js';
import { wanemuOne, type WanemuStatus } from '../testbed/wanemu.js';
import type { Executor, ExternalChange, JobInfo, LinkParams, RelocationRequest } from './executor.js';
import { siteNames, type SitePlacement } from './sitemap.js';

export interface TestbedExecutorOptions {
  /** The testbed's state directory. Default $SITEMPI_TESTBED_DIR or /run/sitempi-testbed. */
  stateDir?: string;
  /** Poll interval of wanemu's status, ms. Default 200. */
  pollMs?: number;
  /** Also watch the state directory for changes (poll at once). Default true. */
  watchStateDir?: boolean;
  /**
   * Most nodes a site may hold (by site name). Default: the nodes each site was created with.
   * A number applies to every site; Infinity: no limit.
   */
  maxNodesPerSite?: Record<string, number> | number;
  /**
   * Downtime applied to each migrated node, ms: a number, or 'model' (default) for the cost
   * model's per-VM estimate of the chosen mode (live migration: a few ms; stop-and-copy: M/B).
   * The migrate commands are issued one after the other without waiting for the downtimes, so
   * the downtimes overlap: the job stalls about one VM's downtime (the model, which assumes one VM
   * after the other, is the conservative side).
   */
  downtimeMs?: number | 'model';
  /** Longest downtime 'model' may apply, ms. Default 10000. */
  maxDowntimeMs?: number;
  /** During downtime, hold packets (default) or drop them. */
  downtimeMode?: 'hold' | 'drop';
}

interface NodeView {
  name: string;
  host: string;
  homeSite: string;
  slots: number;
  site: string;
}

/** Host name as the shim reports it, reduced to the node's short host name (no domain). */
function shortHost(h: string): string {
  const i = h.indexOf('.');
  return i > 0 ? h.slice(0, i) : h;
}

export class TestbedExecutor implements Executor {
  readonly kind = 'testbed';
  readonly stateDir: string;
  private st: TestbedState | null = null;
  private nodes: NodeView[] = [];
  private readonly pollMs: number;
  private timer: NodeJS.Timeout | null = null;
  private watcher: fs.FSWatcher | null = null;
  private polling: Promise<void> | null = null;
  private again = false;
  private readonly listeners = new Set<(ev: ExternalChange) => void>();
  /** Relocations in progress: background polls pause (a poll that read wanemu before our move and
   * finished after it would report our own move undone). */
  private relocating = 0;
  private lastError: string | null = null;
  private closed = false;

  constructor(private readonly opts: TestbedExecutorOptions = {}) {
    this.stateDir = path.resolve(opts.stateDir ?? process.env['SITEMPI_TESTBED_DIR'] ?? DEFAULT_STATE_DIR);
    this.pollMs = opts.pollMs ?? 200;
  }

  /** Loads the testbed state and takes a first look at wanemu. Throws when no testbed is up. */
  async start(): Promise<void> {
    await this.reload();
    await this.poll();
    if (this.lastError) throw new Error(this.lastError);
  }

  private async reload(): Promise<TestbedState> {
    const st = await loadState({ stateDir: this.stateDir });
    if (!st) throw new Error(`no testbed is up (no state in ${this.stateDir}); run \`sitempi testbed up\` first`);
    this.st = st;
    const prev = new Map(this.nodes.map((n) => [n.name, n.site]));
    this.nodes = st.nodes.map((n) => ({
      name: n.name,
      host: n.host,
      homeSite: n.homeSite,
      slots: n.slots,
      site: prev.get(n.name) ?? n.site,
    }));
    return st;
  }

  /** The testbed's sites, in its order. */
  get sites(): string[] {
    return this.st ? [...this.st.sites] : [];
  }

  /** Node -> site as last seen. */
  nodeSites(): Map<string, string> {
    return new Map(this.nodes.map((n) => [n.name, n.site]));
  }

  /** Most nodes `site` may hold. */
  capacity(site: string): number {
    const c = this.opts.maxNodesPerSite;
    if (typeof c === 'number') return c;
    if (c && c[site] !== undefined) return c[site];
    return this.nodes.filter((n) => n.homeSite === site).length;
  }

  private nodeOfHost(host: string): NodeView | undefined {
    const h = shortHost(host);
    return this.nodes.find((n) => n.host === host || n.host === h || n.name === h);
  }

  /** Re-reads wanemu's node sites; tells the watchers what moved (when not our own move). */
  async poll(): Promise<void> {
    if (this.relocating > 0) return;
    if (this.polling) {
      this.again = true;
      return await this.polling;
    }
    this.polling = (async () => {
      do {
        this.again = false;
        await this.pollOnce();
      } while (this.again && !this.closed && this.relocating === 0);
    })().finally(() => {
      this.polling = null;
    });
    return await this.polling;
  }

  private async pollOnce(): Promise<void> {
    if (!this.st) {
      try {
        await this.reload();
      } catch (e) {
        this.lastError = (e as Error).message;
        return;
      }
    }
    let ws: WanemuStatus;
    try {
      ws = await wanemuOne<WanemuStatus>(this.st!.wanemu.control, 'status');
    } catch (e) {
      // The testbed may have been brought down and up again: re-read its state once.
      try {
        const st = await this.reload();
        ws = await wanemuOne<WanemuStatus>(st.wanemu.control, 'status');
      } catch {
        this.lastError = `testbed ${this.stateDir}: ${(e as Error).message}`;
        return;
      }
    }
    this.lastError = null;
    const moved: string[] = [];
    for (const w of ws.nodes) {
      const n = this.nodes.find((x) => x.name === w.name);
      if (!n || n.site === w.site) continue;
      moved.push(`node ${n.name} moved ${n.site} -> ${w.site}`);
      n.site = w.site;
    }
    // Our own moves are already in this.nodes: whatever differs was moved by someone else.
    if (moved.length) {
      const ev: ExternalChange = { at: Date.now(), description: moved.join(', ') };
      for (const l of this.listeners) {
        try {
          l(ev);
        } catch {
          /* a listener's problem */
        }
      }
    }
  }

  async placementOf(job: JobInfo): Promise<SitePlacement | null> {
    if (!this.st) await this.reload();
    return this.placementFromNodes(job);
  }

  private placementFromNodes(job: JobInfo): SitePlacement | null {
    const sites = this.sites;
    const siteOf: number[] = [];
    for (let r = 0; r < job.size; r++) {
      const h = job.hosts[r];
      const n = h ? this.nodeOfHost(h) : undefined;
      if (!n) return null;
      siteOf.push(sites.indexOf(n.site));
    }
    return { sites, siteOf };
  }

  /** Nodes of the job and the site each would go to: the site most of its ranks want (tie: the first). */
  private plan(job: JobInfo, target: SitePlacement): Map<NodeView, string> {
    const want = new Map<NodeView, Map<string, number>>();
    const names = siteNames(target);
    for (let r = 0; r < job.size; r++) {
      const n = this.nodeOfHost(job.hosts[r] ?? '');
      if (!n)
        throw new Error(
          `rank ${r} runs on ${job.hosts[r] ? `host ${job.hosts[r]}, which is not a node of the testbed in ${this.stateDir}` : 'an unknown host'}`,
        );
      let m = want.get(n);
      if (!m) want.set(n, (m = new Map()));
      m.set(names[r], (m.get(names[r]) ?? 0) + 1);
    }
    const out = new Map<NodeView, string>();
    for (const [n, m] of want) {
      let best = '',
        bestCount = -1;
      for (const [s, c] of m)
        if (c > bestCount) {
          best = s;
          bestCount = c;
        }
      out.set(n, best);
    }
    return out;
  }

  async checkTarget(job: JobInfo, target: SitePlacement): Promise<string | null> {
    if (!this.st) await this.reload();
    for (const s of new Set(siteNames(target)))
      if (!this.sites.includes(s)) return `site ${s} is not a site of the testbed (sites: ${this.sites.join(', ')})`;
    let plan: Map<NodeView, string>;
    try {
      plan = this.plan(job, target);
    } catch (e) {
      return (e as Error).message;
    }
    const count = new Map<string, number>();
    for (const n of this.nodes) {
      const s = plan.get(n) ?? n.site;
      count.set(s, (count.get(s) ?? 0) + 1);
    }
    for (const [s, c] of count) {
      const cap = this.capacity(s);
      const before = this.nodes.filter((n) => n.site === s).length;
      if (c > cap && c > before) return `site ${s} would hold ${c} nodes, its capacity is ${cap}`;
    }
    return null;
  }

  vmsToMove(job: JobInfo, _current: SitePlacement | null, target: SitePlacement): number {
    try {
      let n = 0;
      for (const [node, site] of this.plan(job, target)) if (node.site !== site) n++;
      return n;
    } catch {
      return 0;
    }
  }

  link(from: string, to: string): LinkParams | null {
    const l = this.st?.links.find((x) => x.from === from && x.to === to);
    return l ? { latencySeconds: l.latencyMs / 1000, bandwidthBps: l.bandwidthBps } : null;
  }

  async relocate(req: RelocationRequest): Promise<SitePlacement> {
    if (!this.st) await this.reload();
    await this.poll();
    const problem = await this.checkTarget(req.job, req.target);
    if (problem) throw new Error(problem);
    const plan = this.plan(req.job, req.target);
    let downtimeMs = 0;
    if (typeof this.opts.downtimeMs === 'number') downtimeMs = this.opts.downtimeMs;
    else if (req.estimate)
      downtimeMs = Math.min(this.opts.maxDowntimeMs ?? 10000, Math.round(req.estimate.downtimePerVmSeconds * 1000));
    const moves = [...plan].filter(([n, s]) => n.site !== s);
    this.relocating++;
    const failed: string[] = [];
    try {
      if (this.polling) await this.polling;
      // One after the other: each migrate is a quick control command (wanemu applies the
      // downtime by itself), and the testbed's state file must not be rewritten concurrently.
      for (const [n, site] of moves) {
        try {
          const r = await migrate(n.name, site, { stateDir: this.stateDir, downtimeMs, mode: this.opts.downtimeMode });
          n.site = r.to;
        } catch (e) {
          failed.push(`node ${n.name}: ${(e as Error).message}`);
        }
      }
      await this.pollOnce();
    } finally {
      this.relocating--;
    }
    // On failure the service asks placementOf() where the ranks ended up.
    if (failed.length) throw new Error(`testbed migrate failed: ${failed.join('; ')}`);
    const reached = this.placementFromNodes(req.job);
    if (!reached) throw new Error("the ranks' nodes are no longer in the testbed");
    return reached;
  }

  watch(onChange: (ev: ExternalChange) => void): () => void {
    this.listeners.add(onChange);
    if (!this.timer && !this.closed) {
      this.timer = setInterval(() => {
        this.poll().catch(() => undefined);
      }, this.pollMs);
      this.timer.unref();
      if (this.opts.watchStateDir !== false) {
        try {
          this.watcher = fs.watch(this.stateDir, { persistent: false }, (_ev, file) => {
            if (!file || String(file).startsWith('state.json')) this.poll().catch(() => undefined);
          });
          this.watcher.on('error', () => {
            this.watcher?.close();
            this.watcher = null;
          });
        } catch {
          /* polling alone */
        }
      }
    }
    return () => {
      this.listeners.delete(onChange);
      if (this.listeners.size === 0) this.stopWatching();
    };
  }

  private stopWatching(): void {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
    if (this.watcher) {
      this.watcher.close();
      this.watcher = null;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.stopWatching();
    if (this.polling) await this.polling.catch(() => undefined);
  }
}
