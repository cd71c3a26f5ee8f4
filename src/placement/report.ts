// The placement timeline in reports: a JSON object per job (added to the report's job as
// "placement") and a text section.
import type { PlacementHistory, PlacementService, RelocationEvent } from './service.js';
import { formatSiteMap } from './sitemap.js';

/** What reports and the job history both keep of a placement epoch (`at`: a Date.now() value). */
export interface PlacementRow {
  epoch: number;
  map: string;
  source: string;
  reason: string;
  at: number;
  jobSeconds: number;
}

/** What reports and the job history both keep of a relocation (`at`: a Date.now() value). */
export interface RelocationRow {
  trigger: string;
  reason: string;
  ok: boolean;
  error: string | null;
  executor: string;
  from: string | null;
  target: string;
  reached: string | null;
  epochBefore: number;
  epochAfter: number;
  at: number;
  executorMs: number;
  numbers: RelocationEvent['numbers'];
}

export interface PlacementReport {
  /** the placement in force at the end: epoch and map, or null */
  current: { epoch: number; map: string } | null;
  /** every epoch, oldest first */
  timeline: Array<Omit<PlacementRow, 'at'> & { sites: string[]; siteOf: number[]; at: string }>;
  relocations: Array<Omit<RelocationRow, 'at'> & { reachedTarget: boolean; at: string }>;
  /** policy outcomes, each time it changed */
  decisions: Array<{ at: string; jobSeconds: number; action: string; verdict: string | null; summary: string }>;
  /** where the verdict the job was placed by came from: its past runs (the job history), or measured now */
  verdictSource: 'history' | 'measured';
  /** the past verdict its first placement used (docs/history.md), or null */
  historyVerdict: { name: string; verdict: string; jobId: string; endedAt: string; runs: number } | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function placementRow(r: PlacementHistory['timeline'][number]): PlacementRow {
  return { epoch: r.epoch, map: r.map, source: r.source, reason: r.reason, at: r.at, jobSeconds: r.jobSeconds };
}

export function relocationRow(e: RelocationEvent): RelocationRow {
  return {
    trigger: e.trigger,
    reason: e.reason,
    ok: e.ok,
    error: e.error,
    executor: e.executor,
    from: e.from ? formatSiteMap(e.from) : null,
    target: formatSiteMap(e.target),
    reached: e.reached ? formatSiteMap(e.reached) : null,
    epochBefore: e.epochBefore,
    epochAfter: e.epochAfter,
    at: e.timings.requestedAt,
    executorMs: e.timings.executorMs,
    numbers: e.numbers,
  };
}

export function placementReport(h: PlacementHistory): PlacementReport {
  return {
    current: h.current ? { epoch: h.current.epoch, map: h.current.map } : null,
    timeline: h.timeline.map((r) => ({ ...placementRow(r), sites: r.sites, siteOf: r.siteOf, at: iso(r.at) })),
    relocations: h.relocations.map((e) => ({
      ...relocationRow(e),
      reachedTarget: e.reachedTarget,
      at: iso(e.timings.requestedAt),
      numbers: { ...e.numbers, classification: e.numbers.classification },
    })),
    decisions: h.decisions.map((d) => ({
      at: iso(d.at),
      jobSeconds: d.jobSeconds,
      action: d.action,
      verdict: d.verdict,
      summary: d.summary,
    })),
    verdictSource: h.fromHistory ? 'history' : 'measured',
    historyVerdict: h.fromHistory ? { ...h.fromHistory, endedAt: iso(h.fromHistory.endedAt) } : null,
  };
}

/** Adds "placement" to every job of a JSON report (as built by formatJson) that the service knows. */
export function addPlacementToJson(reportJson: string, svc: PlacementService): string {
  const rep = JSON.parse(reportJson) as { jobs?: Array<{ id: string; placement?: PlacementReport }> };
  addPlacement(rep, svc);
  return JSON.stringify(rep, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
}

/** Adds "placement" to every job of a report object that the service knows. */
export function addPlacement(
  rep: { jobs?: Array<{ id: string; placement?: PlacementReport }> },
  svc: PlacementService,
): void {
  for (const j of rep.jobs ?? []) {
    const h = svc.history(j.id);
    if (h) j.placement = placementReport(h);
  }
}

/** The placement section of the text report. */
export function formatPlacementText(h: PlacementHistory): string {
  const out: string[] = [];
  if (h.timeline.length === 0) return '';
  const t0 = h.timeline[0].at;
  out.push(`placement of job ${h.jobId} (epochs):`);
  const past = h.fromHistory;
  if (past)
    out.push(`  verdict from history: ${past.verdict} (${past.name}, job ${past.jobId} of ${iso(past.endedAt)})`);
  for (const r of h.timeline)
    out.push(`  epoch ${r.epoch}  ${r.map}  [${r.source}] +${((r.at - t0) / 1000).toFixed(1)}s  ${r.reason}`);
  for (const e of h.relocations) {
    const n = e.numbers;
    out.push(
      `  relocation (${e.trigger}, ${e.executor}) ${e.ok ? 'done' : `FAILED: ${e.error}`}: ${e.from ? formatSiteMap(e.from) : '-'} -> ${formatSiteMap(e.target)}${e.reached && !e.reachedTarget ? ` (reached ${formatSiteMap(e.reached)})` : ''}`,
    );
    out.push(
      `    crossing bytes ${n.crossBytesBefore} -> ${n.crossBytesAfter}; gain ${n.gain.gainSeconds.toFixed(2)} s vs ${n.cost.mode} migration cost ${n.cost.costSeconds.toFixed(2)} s (${n.movedVms} VMs, downtime ${(n.cost.downtimeSeconds * 1000).toFixed(0)} ms); executor ${e.timings.executorMs} ms`,
    );
  }
  return out.join('\n') + '\n';
}
