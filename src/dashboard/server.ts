// The monitor's web face (`--http ADDR`): a fastify server with the dashboard page, its live state
// over server-sent events (one update per tick), a JSON API and Prometheus /metrics. Loopback
// unless told otherwise; on any other address only with the monitor's token (auth.ts).
//
//   const d = await startDashboard({ monitor, address: '127.0.0.1:8080', placement: svc });
//   ... d.url ...
//   await d.close();
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { ClassifyOptions } from '../monitor/classify.js';
import type { JobProfile } from '../monitor/job.js';
import type { Monitor } from '../monitor/monitor.js';
import { packageRoot } from '../native/paths.js';
import type { PlacementService } from '../placement/service.js';
import { dashboardUrl, isLoopback, parseHttpAddress, type HttpAddress } from './address.js';
import { DashboardAuth } from './auth.js';
import { LinkSeries } from './links.js';
import { metricsRegistry } from './metrics.js';
import { sitesView } from './sites.js';
import { SseHub } from './sse.js';
import { JobViews, type JobSummary } from './views.js';

/** Per-rank series and rows for jobs of at most this many ranks; job-level ones for larger jobs. */
export const RANK_SERIES_LIMIT = 64;
/** Ended jobs stay on the dashboard (and in /metrics) for this long, at most this many. */
export const KEEP_ENDED_MS = 3600_000;
export const KEEP_ENDED_JOBS = 50;
/** The job list is cut here (running jobs first). */
export const MAX_JOBS_SHOWN = 200;

/** Where the dashboard's history tab reads ended jobs from (the SQLite history, when there is one). */
export interface HistorySource {
  list(): unknown[] | Promise<unknown[]>;
}

export interface DashboardOptions {
  monitor: Monitor;
  /** --http ADDR: "127.0.0.1:8080", "[::1]:0", "0.0.0.0:8080", "8080" */
  address: string | HttpAddress;
  /** the monitor's token: required to serve on a non-loopback address */
  token?: string | null;
  placement?: PlacementService | null;
  history?: HistorySource | null;
  /** a testbed's state directory: its sites and nodes, and its WAN counters */
  testbedStateDir?: string;
  classify?: ClassifyOptions;
  rankLimit?: number;
  /** ms between two updates (default 1000) */
  intervalMs?: number;
  /** updates a client may miss in a row before it is dropped (default 30) */
  maxStalls?: number;
}

export interface Dashboard {
  url: string;
  address: HttpAddress;
  readonly sse: SseHub;
  close(): Promise<void>;
}

export class DashboardError extends Error {}

const STATIC_DIR = path.join(packageRoot, 'src', 'dashboard', 'static');
const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: path.join(STATIC_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  '/app.js': { file: path.join(STATIC_DIR, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: path.join(STATIC_DIR, 'style.css'), type: 'text/css; charset=utf-8' },
  '/echarts.min.js': {
    file: createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
};

export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const address = typeof o.address === 'string' ? parseHttpAddress(o.address) : o.address;
  const loopback = isLoopback(address.host);
  if (!loopback && !o.token)
    throw new DashboardError(
      `refusing to serve the dashboard on ${address.host} without a token: give the monitor a token ` +
        '(--token-file FILE or SITEMPI_TOKEN), or listen on loopback (--http 127.0.0.1:PORT)',
    );
  // On loopback nobody needs the token (the host's users can reach the monitor anyway).
  const auth = new DashboardAuth(loopback ? null : o.token!);
  const monitor = o.monitor;
  const svc = o.placement ?? null;
  const views = new JobViews({
    classify: o.classify ?? {},
    placement: svc,
    rankLimit: o.rankLimit ?? RANK_SERIES_LIMIT,
  });
  const links = new LinkSeries({ stateDir: o.testbedStateDir });
  const hub = new SseHub({ maxStalls: o.maxStalls ?? 30 });
  const assets = new Map(Object.entries(ASSETS).map(([k, a]) => [k, { body: fs.readFileSync(a.file), type: a.type }]));

  const shownJobs = (now: number): JobProfile[] => {
    const ended = monitor
      .endedJobs()
      .filter((j) => (j.endedAtMs ?? 0) > now - KEEP_ENDED_MS)
      .slice(-KEEP_ENDED_JOBS)
      .reverse();
    return [...monitor.jobs(), ...ended].slice(0, MAX_JOBS_SHOWN);
  };
  const findJob = (id: string): JobProfile | undefined =>
    monitor.job(id) ?? monitor.endedJobs().find((j) => j.id === id);
  const summaries = (now = Date.now()): JobSummary[] => shownJobs(now).map((j) => views.summary(j, now));
  const monitorView = (jobs: JobSummary[]) => ({
    connections: monitor.connectionCount,
    ingestRecordsPerSecond: jobs.filter((j) => j.state === 'running').reduce((s, j) => s + j.recordsPerSecond, 0),
    rssBytes: process.memoryUsage.rss(),
    sseClients: hub.size,
  });
  let sites: Awaited<ReturnType<typeof sitesView>> = { source: null, sites: [] };
  const stateJson = (now = Date.now()): string => {
    const jobs = summaries(now);
    return JSON.stringify({
      now,
      monitor: monitorView(jobs),
      jobs,
      sites,
      links: links.view(),
      history: o.history ? 'on' : 'off',
      placement: svc !== null,
    });
  };
  const detailJson = (id: string | null, now = Date.now()): string => {
    const job = id === null ? undefined : findJob(id);
    return job ? JSON.stringify(views.detail(job, now)) : 'null';
  };
  const payload = (state: string, id: string | null) => `{"state":${state},"detail":${detailJson(id)}}`;

  const registry = metricsRegistry(() => {
    const jobs = summaries();
    const m = monitorView(jobs);
    return { jobs, links: links.view(), connections: m.connections, ingestRecordsPerSecond: m.ingestRecordsPerSecond };
  });

  const app = Fastify({ logger: false, forceCloseConnections: true, bodyLimit: 1024 });
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    // A page elsewhere could point a name of its own at 127.0.0.1 (DNS rebinding): on loopback
    // only loopback names are served.
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (loopback && !isLoopback(host)) return reply.code(403).send({ error: `host ${host} is not served here` });
    if (!auth.required || req.url.startsWith('/login') || auth.allows(req.headers)) return;
    return reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="sitempi"')
      .send({ error: "the monitor's token is required: Authorization: Bearer TOKEN, or open /login?token=TOKEN once" });
  });
  for (const [route, a] of assets)
    app.get(route, (_req, reply) => reply.header('cache-control', 'no-cache').type(a.type).send(a.body));
  app.get('/favicon.ico', (_req, reply) => reply.code(204).send());
  app.get('/login', (req, reply) => {
    const given = (req.query as Record<string, unknown>).token;
    const cookie = typeof given === 'string' ? auth.loginCookie(given) : null;
    if (!auth.required) return reply.redirect('/', 303);
    if (!cookie) return reply.code(401).send({ error: 'wrong or missing token' });
    return reply.header('set-cookie', cookie).redirect('/', 303);
  });
  app.get('/api/state', (_req, reply) => reply.type('application/json').send(stateJson()));
  app.get('/api/jobs/:id', (req, reply) => {
    const id = (req.params as { id: string }).id;
    const job = findJob(id);
    if (!job) return reply.code(404).send({ error: `no job ${id}` });
    return reply.send({ summary: views.summary(job), detail: views.detail(job) });
  });
  app.get('/api/history', async (_req, reply) => {
    if (!o.history) return reply.send({ enabled: false, jobs: [] });
    try {
      return reply.send({ enabled: true, jobs: await o.history.list() });
    } catch (e) {
      return reply.code(500).send({ enabled: true, error: (e as Error).message });
    }
  });
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  app.get('/events', (req, reply) => {
    const job = (req.query as Record<string, unknown>).job;
    const sel = typeof job === 'string' && job ? job : null;
    reply.hijack();
    hub.add(reply.raw, sel, payload(stateJson(), sel));
  });

  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      const now = Date.now();
      // ended jobs too: their last traffic, after the previous sample, still crossed
      const jobs = shownJobs(now);
      await links.sample(jobs, (j) => views.pairs(j, now), svc, now);
      sites = await sitesView(jobs, svc, o.testbedStateDir);
      if (hub.size) {
        const state = stateJson(now);
        hub.broadcast((sel) => payload(state, sel));
      }
    } catch {
      /* a tick that failed is retried at the next one; the monitor goes on */
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), o.intervalMs ?? 1000);
  timer.unref();

  try {
    await app.listen({ host: address.host, port: address.port });
  } catch (e) {
    clearInterval(timer);
    throw new DashboardError(`--http ${address.host}:${address.port}: ${(e as Error).message}`);
  }
  const port = (app.server.address() as { port: number }).port;
  return {
    url: dashboardUrl(address.host, port),
    address: { host: address.host, port },
    sse: hub,
    async close() {
      clearInterval(timer);
      hub.closeAll();
      await app.close();
    },
  };
}
