// /metrics: the Prometheus face of the monitor, a prom-client registry per server (never the global
// one). Values are read from the monitor when scraped. Counters end in _total, units are in the
// names (seconds, bytes). Cardinality stays bounded: per-rank series only for jobs of at most
// `rankLimit` ranks (job-level series otherwise), ended jobs only while the dashboard keeps them
// (at most KEEP_ENDED_JOBS, for KEEP_ENDED_MS), links as many as site pairs.
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { LinksView } from './links.js';
import type { JobSummary } from './views.js';

export interface MetricsSnapshot {
  jobs: JobSummary[];
  links: LinksView;
  connections: number;
  ingestRecordsPerSecond: number;
}

type Labels = Record<string, string>;
type Value = [Labels, number];

export function metricsRegistry(snapshot: () => MetricsSnapshot): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // One snapshot per scrape, however many metrics read it.
  let cached: { at: number; s: MetricsSnapshot } | null = null;
  const snap = (): MetricsSnapshot => {
    const now = Date.now();
    if (!cached || now - cached.at > 200) cached = { at: now, s: snapshot() };
    return cached.s;
  };
  type Values = (s: MetricsSnapshot) => Value[];
  // Counters and gauges alike are emptied and refilled from the snapshot at each scrape.
  const options = <M>(
    name: string,
    help: string,
    labelNames: string[],
    put: (m: M, v: Value) => void,
    values: Values,
  ) => ({
    name,
    help,
    labelNames,
    registers: [registry],
    collect(this: M & { reset(): void }) {
      this.reset();
      for (const v of values(snap())) put(this, v);
    },
  });
  const counter = (name: string, help: string, labelNames: string[], values: Values) =>
    new Counter(options<Counter>(name, help, labelNames, (m, [l, v]) => m.inc(l, v), values));
  const gauge = (name: string, help: string, labelNames: string[], values: Values) =>
    new Gauge(options<Gauge>(name, help, labelNames, (m, [l, v]) => m.set(l, v), values));
  const perJob = (f: (j: JobSummary) => number) => (s: MetricsSnapshot) =>
    s.jobs.map((j): Value => [{ job: j.id }, f(j)]);
  const perRank = (f: (r: NonNullable<JobSummary['ranks']>[number]) => number) => (s: MetricsSnapshot) =>
    s.jobs.flatMap((j) => (j.ranks ?? []).map((r): Value => [{ job: j.id, rank: String(r.rank) }, f(r)]));

  gauge(
    'sitempi_job_info',
    'A job the monitor shows (1), with its program and state',
    ['job', 'program', 'state'],
    (s) => s.jobs.map((j) => [{ job: j.id, program: j.program, state: j.state }, 1]),
  );
  gauge(
    'sitempi_job_ranks',
    'Ranks of the job (MPI_COMM_WORLD size)',
    ['job'],
    perJob((j) => j.size),
  );
  gauge(
    'sitempi_job_ranks_connected',
    'Ranks with an open connection to the monitor',
    ['job'],
    perJob((j) => j.ranksConnected),
  );
  counter(
    'sitempi_job_mpi_seconds_total',
    'Time inside MPI, summed over the ranks',
    ['job'],
    perJob((j) => j.mpiSeconds),
  );
  gauge(
    'sitempi_job_wall_seconds',
    'Wall time of the job, earliest rank start to latest rank end',
    ['job'],
    perJob((j) => j.wallSeconds),
  );
  gauge(
    'sitempi_job_mpi_fraction_ratio',
    'Time in MPI over wall time, all ranks',
    ['job'],
    perJob((j) => j.mpiFraction),
  );
  counter(
    'sitempi_job_records_total',
    'Records received from the ranks',
    ['job'],
    perJob((j) => j.records),
  );
  counter(
    'sitempi_job_bytes_total',
    'Bytes of the communication matrix (point-to-point and expanded collectives)',
    ['job'],
    perJob((j) => j.bytes),
  );
  counter(
    'sitempi_job_messages_total',
    'Messages of the communication matrix',
    ['job'],
    perJob((j) => j.messages),
  );
  counter(
    'sitempi_job_dropped_records_total',
    'Records the shims dropped (queue full)',
    ['job'],
    perJob((j) => j.droppedRecords),
  );
  counter(
    'sitempi_job_lost_records_total',
    'Records produced but never received',
    ['job'],
    perJob((j) => j.lostRecords),
  );
  gauge(
    'sitempi_job_records_per_second',
    'Records received per second (sliding window)',
    ['job'],
    perJob((j) => j.recordsPerSecond),
  );
  gauge(
    'sitempi_job_verdict',
    "The job's classification: 1 for its verdict, 0 for the other",
    ['job', 'verdict'],
    (s) =>
      s.jobs.flatMap((j): Value[] =>
        ['network-intensive', 'compute-intensive'].map((v) => [{ job: j.id, verdict: v }, j.verdict === v ? 1 : 0]),
      ),
  );
  gauge(
    'sitempi_job_cross_site_bytes_per_second',
    "Traffic that would cross sites (the verdict's rate)",
    ['job'],
    perJob((j) => j.numbers.crossBytesPerSecond),
  );
  gauge('sitempi_job_placement_epoch', 'Placement epoch in force (jobs with a placement only)', ['job'], (s) =>
    s.jobs.filter((j) => j.epoch !== null).map((j) => [{ job: j.id }, j.epoch!]),
  );
  // per-rank counters, small jobs only
  const rankCounters: Array<[string, string, Parameters<typeof perRank>[0]]> = [
    ['sitempi_rank_mpi_seconds_total', 'Time inside MPI of one rank', (r) => r.mpiSeconds],
    ['sitempi_rank_records_total', 'Records received from one rank', (r) => r.records],
    ['sitempi_rank_sent_bytes_total', 'Bytes one rank sent, its row of the matrix', (r) => r.bytesSent],
    ['sitempi_rank_dropped_records_total', "Records one rank's shim dropped", (r) => r.droppedRecords],
  ];
  for (const [name, help, value] of rankCounters)
    counter(name, `${help} (small jobs only)`, ['job', 'rank'], perRank(value));
  counter(
    'sitempi_wan_link_bytes_total',
    "Bytes that crossed a WAN link from one site to another (source: wanemu counters or the jobs' matrices)",
    ['from', 'to', 'source'],
    (s) => s.links.totals.map((l) => [{ from: l.from, to: l.to, source: s.links.source ?? '' }, l.bytes]),
  );
  counter('sitempi_wan_link_packets_total', 'IP packets that crossed a WAN link (testbed only)', ['from', 'to'], (s) =>
    s.links.totals.filter((l) => l.packets !== null).map((l) => [{ from: l.from, to: l.to }, l.packets!]),
  );
  gauge('sitempi_monitor_connections', 'Open rank connections', [], (s) => [[{}, s.connections]]);
  gauge('sitempi_monitor_ingest_records_per_second', 'Records received per second, all running jobs', [], (s) => [
    [{}, s.ingestRecordsPerSecond],
  ]);
  gauge('sitempi_monitor_jobs', 'Jobs the monitor shows, by state', ['state'], (s) =>
    (['running', 'ended'] as const).map((st) => [{ state: st }, s.jobs.filter((j) => j.state === st).length]),
  );
  return registry;
}
