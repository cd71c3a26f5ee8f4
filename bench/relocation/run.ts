// Live relocation end to end on the testbed (issue 4): an 8-rank Allreduce job starts interleaved
// over two sites; the monitor classifies it network-intensive and consolidates it on one site
// through the testbed executor; the shim's communicators switch at an agreed call. Records the
// job's latency, the bytes crossing sites (wanemu counters) and the placement epochs over time,
// and writes bench/results/relocation.{json,md,svg}.
//
//   npx tsc -p tsconfig.json && node dist/bench/relocation/run.js [--seconds 30] [--bytes 262144] [--out bench/results]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileMpi, rootEnv } from '../../src/mpi/toolchain.js';
import { packageRoot, wanemuPath } from '../../src/native/paths.js';
import { counters, down, up, type TestbedState } from '../../src/testbed/testbed.js';
import { arg } from '../args.js';
import { interleavedNodes, nodeHosts, relocatingRunArgs } from './testbed-run.js';

interface LatencyPoint {
  t: number;
  latency_ms: number;
  calls: number;
}
interface CrossPoint {
  t: number;
  mbPerSec: number;
}
interface Epoch {
  epoch: number;
  jobSeconds: number;
  reason: string;
  source: string;
  siteOf: number[];
  sites: string[];
}
/** The parts of the JSON report (docs/report-json.md) this benchmark reads. */
interface ReportJob {
  placement?: {
    timeline?: (Epoch & { at: string })[];
    decisions?: { jobSeconds: number; verdict: string; summary: string }[];
  };
  placementSwitches?: { commSize: number; epoch: number; call: number; jobSeconds: number; ranks: number }[];
  epochs?: { epoch: number; bytes: number[][] }[];
}

const opts = {
  stateDir: path.join(os.tmpdir(), 'sitempi-relocation-e2e'),
  prefix: 'sme2e',
  mgmtSubnet: '198.19.236.0/24',
  dataSubnet: '198.19.237.0/24',
  wanemuPath,
};

export interface E2eResult {
  config: { seconds: number; bytes: number; rttMs: number; bandwidth: string; ranks: number };
  latency: LatencyPoint[];
  cross: CrossPoint[];
  epochs: Epoch[];
  verdicts: { jobSeconds: number; verdict: string; summary: string }[];
  wrongResults: number | null;
  /** epochs of the per-epoch matrices in the monitor's report, with the bytes each recorded */
  epochMatrices: { epoch: number; bytes: number }[];
  /** when MPI_COMM_WORLD took up each epoch in the shim (the report's placementSwitches) */
  worldSwitches: { epoch: number; call: number; jobSeconds: number; ranks: number }[];
  /** the run cut where the world communicator switched: library algorithms (no placement yet),
   * site-aware on the interleaved placement (epoch 1), consolidated (epoch 2) */
  phases: Phase[];
  summary: { epochsSeen: number; switchSeconds: number | null };
}

export interface Phase {
  name: string;
  fromS: number;
  toS: number;
  latencyMs: number | null;
  crossMBps: number | null;
}

const median = (xs: number[]): number | null => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

export async function runE2e(seconds: number, bytes: number): Promise<E2eResult> {
  const program = compileMpi('bench/relocation/allreduce_timeline.c');
  await down(opts);
  const st: TestbedState = await up({ sites: { A: 4, B: 4 }, slots: 1, rttMs: 10, bandwidth: 1e9 }, opts);
  try {
    const report = path.join(opts.stateDir, 'report.json');
    const args = [
      path.join(packageRoot, 'bin', 'sitempi.js'),
      ...relocatingRunArgs({
        stateDir: opts.stateDir,
        siteCapacity: 'A=8,B=8',
        minObserve: 4,
        report,
        hosts: nodeHosts(st, interleavedNodes(4)),
        command: [program, String(seconds), String(bytes)],
      }),
    ];
    const started = Date.now();
    const cross: CrossPoint[] = [];
    let last = await counters(opts);
    const poll = setInterval(() => {
      counters(opts)
        .then((c) => {
          const sum = (s: typeof c) => s.links.reduce((a, l) => a + l.bytes, 0);
          cross.push({ t: (c.at - started) / 1000, mbPerSec: (sum(c) - sum(last)) / ((c.at - last.at) / 1000) / 1e6 });
          last = c;
        })
        .catch(() => {});
    }, 250);
    const latency: LatencyPoint[] = [];
    let wrong: number | null = null;
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn('node', args, { env: rootEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (!line.startsWith('{')) continue;
          const o = JSON.parse(line) as LatencyPoint & { done?: boolean; wrong?: number };
          if (o.done) wrong = o.wrong ?? null;
          else if (typeof o.latency_ms === 'number') latency.push(o);
        }
      });
      child.on('error', reject);
      child.on('close', (c) => resolve(c ?? 1));
    });
    clearInterval(poll);
    if (code !== 0) throw new Error(`sitempi run exited with ${code}`);
    const job = (JSON.parse(fs.readFileSync(report, 'utf8')) as { jobs: ReportJob[] }).jobs[0];
    const timeline = job.placement?.timeline ?? [];
    const epochs: Epoch[] = timeline.map((e) => ({
      epoch: e.epoch,
      jobSeconds: e.jobSeconds,
      reason: e.reason,
      source: e.source,
      siteOf: e.siteOf,
      sites: e.sites,
    }));
    // Counter times are relative to the launch; shift them onto job time with epoch 1's stamp.
    const first = timeline[0];
    const shift = first ? (Date.parse(first.at) - started) / 1000 - first.jobSeconds : 0;
    for (const c of cross) c.t -= shift;
    const verdicts = (job.placement?.decisions ?? []).map((d) => ({
      jobSeconds: d.jobSeconds,
      verdict: d.verdict,
      summary: d.summary,
    }));
    const switchAt = epochs.find((e) => e.epoch >= 2)?.jobSeconds ?? null;
    const worldSwitches = (
      (job.placementSwitches ?? []) as {
        commSize: number;
        epoch: number;
        call: number;
        jobSeconds: number;
        ranks: number;
      }[]
    )
      .filter((w) => w.commSize === 8)
      .map(({ epoch, call, jobSeconds, ranks }) => ({ epoch, call, jobSeconds, ranks }));
    // Phases between the world communicator's switches, a margin off each edge (the 0.25 s
    // windows of the timeline straddle them); the first second is start-up.
    const at = (e: number) => worldSwitches.find((w) => w.epoch === e)?.jobSeconds;
    const end = Math.max(0, ...latency.map((p) => p.t));
    const cuts: [string, number, number][] = [
      ['library algorithms (no placement yet)', 1, at(1) ?? at(2) ?? end],
      ['site-aware, interleaved (epoch 1)', at(1) ?? end, at(2) ?? end],
      ['consolidated on one site (epoch 2)', at(2) ?? end, end],
    ];
    const phases: Phase[] = cuts.map(([name, from, to]) => {
      const inside = (p: { t: number }) => p.t > from + 0.3 && p.t < to - 0.3;
      return {
        name,
        fromS: from,
        toS: to,
        latencyMs: median(latency.filter(inside).map((p) => p.latency_ms)),
        crossMBps: median(cross.filter(inside).map((p) => p.mbPerSec)),
      };
    });
    return {
      config: { seconds, bytes, rttMs: 10, bandwidth: '1 Gbit/s', ranks: 8 },
      latency,
      cross,
      epochs,
      verdicts,
      wrongResults: wrong,
      epochMatrices: ((job.epochs ?? []) as { epoch: number; bytes: number[][] }[]).map((e) => ({
        epoch: e.epoch,
        bytes: e.bytes.flat().reduce((a, b) => a + b, 0),
      })),
      worldSwitches,
      phases,
      summary: { epochsSeen: epochs.length, switchSeconds: switchAt },
    };
  } finally {
    await down(opts);
  }
}

export function renderSvg(r: E2eResult): string {
  const W = 900,
    H = 420,
    L = 70,
    R = 70,
    T = 40,
    B = 50;
  const tMax = Math.max(1, ...r.latency.map((p) => p.t), ...r.cross.map((p) => p.t));
  const latMax = Math.max(1, ...r.latency.map((p) => p.latency_ms)) * 1.1;
  const crossMax = Math.max(1, ...r.cross.map((p) => p.mbPerSec)) * 1.1;
  const x = (t: number) => L + (t / tMax) * (W - L - R);
  const yl = (v: number) => H - B - (v / latMax) * (H - T - B);
  const yc = (v: number) => H - B - (v / crossMax) * (H - T - B);
  const line = (pts: [number, number][], color: string) =>
    `<polyline fill="none" stroke="${color}" stroke-width="1.6" points="${pts.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' ')}"/>`;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">Live relocation: 8-rank Allreduce (${r.config.bytes / 1024} KiB), 2 sites, ${r.config.rttMs} ms RTT, ${r.config.bandwidth}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`,
    `<line x1="${W - R}" y1="${T}" x2="${W - R}" y2="${H - B}" stroke="black"/>`,
    `<text x="${W / 2}" y="${H - 12}" text-anchor="middle">job time (s)</text>`,
    `<text x="18" y="${H / 2}" transform="rotate(-90 18 ${H / 2})" text-anchor="middle" fill="#1f77b4">Allreduce latency (ms, median per 0.25 s)</text>`,
    `<text x="${W - 18}" y="${H / 2}" transform="rotate(90 ${W - 18} ${H / 2})" text-anchor="middle" fill="#d62728">bytes crossing sites (MB/s, wanemu)</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const t = (tMax * i) / 5,
      lv = (latMax * i) / 5,
      cv = (crossMax * i) / 5;
    parts.push(`<text x="${x(t)}" y="${H - B + 16}" text-anchor="middle">${t.toFixed(0)}</text>`);
    parts.push(`<text x="${L - 6}" y="${yl(lv) + 4}" text-anchor="end" fill="#1f77b4">${lv.toFixed(1)}</text>`);
    parts.push(`<text x="${W - R + 6}" y="${yc(cv) + 4}" fill="#d62728">${cv.toFixed(0)}</text>`);
  }
  for (const e of r.epochs) {
    const ex = x(e.jobSeconds);
    parts.push(`<line x1="${ex}" y1="${T}" x2="${ex}" y2="${H - B}" stroke="#555" stroke-dasharray="4 3"/>`);
    parts.push(
      `<text x="${ex + 4}" y="${T + 12 + 14 * ((e.epoch - 1) % 3)}" fill="#333">epoch ${e.epoch}: ${e.reason.slice(0, 48)}</text>`,
    );
  }
  for (const w of r.worldSwitches) {
    const wx = x(w.jobSeconds);
    parts.push(`<line x1="${wx}" y1="${T}" x2="${wx}" y2="${H - B}" stroke="#2ca02c" stroke-dasharray="2 2"/>`);
    parts.push(
      `<text x="${wx + 4}" y="${H - B - 8 - 14 * (w.epoch % 2)}" fill="#2ca02c">world takes epoch ${w.epoch} (call ${w.call})</text>`,
    );
  }
  for (const v of r.verdicts)
    parts.push(
      `<circle cx="${x(v.jobSeconds)}" cy="${T + 4}" r="4" fill="${v.verdict === 'network-intensive' ? '#d62728' : '#2ca02c'}"><title>${v.verdict}: ${v.summary}</title></circle>`,
    );
  parts.push(
    line(
      r.cross.map((p) => [x(p.t), yc(p.mbPerSec)]),
      '#d62728',
    ),
  );
  parts.push(
    line(
      r.latency.map((p) => [x(p.t), yl(p.latency_ms)]),
      '#1f77b4',
    ),
  );
  parts.push('</svg>');
  return parts.join('\n');
}

export function renderMarkdown(r: E2eResult): string {
  const s = r.summary;
  const f = (v: number | null, d = 2) => (v === null ? 'n/a' : v.toFixed(d));
  return `# Live relocation end to end (testbed)

Generated by \`node dist/bench/relocation/run.js --seconds ${r.config.seconds} --bytes ${r.config.bytes}\` on ${new Date().toISOString()}.
8 ranks start interleaved over sites A and B (one rank per node, ${r.config.rttMs} ms RTT, ${r.config.bandwidth});
the monitor runs with \`--testbed --relocate auto --site-capacity A=8,B=8 --vm-memory 64MiB\` (the testbed's nodes are small VMs for the migration cost model). Plot: \`relocation.svg\`; raw: \`relocation.json\`.

The run in three phases, cut where \`MPI_COMM_WORLD\` took up each placement in the shim (the
report's \`placementSwitches\`: ${r.worldSwitches.map((w) => `epoch ${w.epoch} from call ${w.call} at ${w.jobSeconds.toFixed(2)} s`).join(', ') || 'none'}):

| phase | job time (s) | Allreduce latency (ms, median) | bytes crossing sites (MB/s, wanemu) |
|---|---|---:|---:|
${r.phases.map((p) => `| ${p.name} | ${p.fromS.toFixed(1)}–${p.toS.toFixed(1)} | ${f(p.latencyMs)} | ${f(p.crossMBps)} |`).join('\n')}

Epochs (${s.epochsSeen}); wrong Allreduce results: ${r.wrongResults ?? 'n/a'}.

| epoch | job time (s) | source | reason |
|---:|---:|---|---|
${r.epochs.map((e) => `| ${e.epoch} | ${e.jobSeconds.toFixed(2)} | ${e.source} | ${e.reason} |`).join('\n')}

Decisions: ${r.verdicts.map((v) => `${v.jobSeconds.toFixed(1)} s ${v.verdict}`).join('; ') || 'none'}.
`;
}

async function main(): Promise<void> {
  const out = arg('--out', path.join(packageRoot, 'bench', 'results'));
  const r = await runE2e(Number(arg('--seconds', '30')), Number(arg('--bytes', String(256 * 1024))));
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'relocation.json'), JSON.stringify(r, null, 2) + '\n');
  fs.writeFileSync(path.join(out, 'relocation.md'), renderMarkdown(r));
  fs.writeFileSync(path.join(out, 'relocation.svg'), renderSvg(r));
  console.log(renderMarkdown(r));
}

if (process.argv[1] && path.resolve(process.argv[1]).endsWith(path.join('relocation', 'run.js'))) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
