// collectives.svg: latency vs message size, log-log, one small panel per (configuration,
// collective), one line per mode and the lower bound dashed. No dependencies: plain SVG text.
import type { BenchResults, Mode, Row } from './types.js';

const COLORS: Record<Mode | 'bound', string> = {
  default: '#4c72b0',
  han: '#dd8452',
  sitempi: '#2ca02c',
  bound: '#555555',
};
const LABEL: Record<Mode | 'bound', string> = {
  default: 'Open MPI default (tuned)',
  han: 'Open MPI HAN',
  sitempi: 'sitempi',
  bound: 'lower bound (docs/architecture.md)',
};

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function sizeLabel(b: number): string {
  if (b >= 1 << 20) return `${b / (1 << 20)}M`;
  if (b >= 1024) return `${b / 1024}K`;
  return `${b}`;
}

function msLabel(ms: number): string {
  if (ms >= 1) return `${ms}`;
  return `${ms}`.replace(/^0\./, '.');
}

export function renderSvg(res: BenchResults): string {
  const modes = res.meta.options.modes;
  const colls = res.meta.options.colls;
  const cfgs = [
    ...new Map(
      res.rows.map((r) => [`${r.layout}/${r.placement}`, { layout: r.layout, placement: r.placement }]),
    ).values(),
  ];
  const pw = 170; // plot width
  const ph = 130; // plot height
  const ml = 46; // left margin (y labels)
  const mt = 22; // title above a plot
  const mb = 30; // x labels below
  const mr = 10;
  const cw = ml + pw + mr;
  const ch = mt + ph + mb;
  const left = 120; // row titles
  const top = 78; // figure title + legend
  const W = left + cw * Math.max(1, colls.length) + 10;
  const H = top + ch * Math.max(1, cfgs.length) + 24;

  // One y range for the whole figure (decades), so that panels compare at a glance.
  const ys: number[] = [];
  for (const r of res.rows) {
    for (const m of modes) {
      const v = r.modes[m]?.medianUs;
      if (v && v > 0) ys.push(v / 1000);
    }
    if (r.bound.timeUs > 0) ys.push(r.bound.timeUs / 1000);
  }
  const yLo = Math.pow(10, Math.floor(Math.log10(Math.max(1e-3, Math.min(...(ys.length ? ys : [1]))))));
  const yHi = Math.pow(10, Math.ceil(Math.log10(Math.max(...(ys.length ? ys : [10])) * 1.0001)));
  const sizes = [...new Set(res.rows.filter((r) => r.coll !== 'barrier').map((r) => r.bytes))].sort((a, b) => a - b);
  const xLo = Math.log2(sizes[0] ?? 8);
  const xHi = Math.log2(sizes[sizes.length - 1] ?? 8 << 20);
  const fx = (b: number): number => (xHi > xLo ? ((Math.log2(b) - xLo) / (xHi - xLo)) * pw : pw / 2);
  const fy = (ms: number): number =>
    ph - ((Math.log10(ms) - Math.log10(yLo)) / (Math.log10(yHi) - Math.log10(yLo))) * ph;

  const o: string[] = [];
  o.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
  );
  o.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  const m = res.meta;
  o.push(
    `<text x="10" y="20" font-size="15" font-weight="bold">${esc(
      `Collective latency vs message size — 2 sites, RTT ${m.testbed.rttMs} ms, ${m.testbed.bandwidthBps / 1e9} Gbit/s (median, ms; log-log)`,
    )}</text>`,
  );
  o.push(
    `<text x="10" y="37" fill="#444">${esc(
      `${m.startedAt.slice(0, 16).replace('T', ' ')} · ${m.openmpi} · ${m.quick ? 'quick run · ' : ''}x: bytes per rank (gather/allgather; reduce_scatter: per rank's block) or per pair (alltoall); lower is better`,
    )}</text>`,
  );
  // Legend.
  let lx = 10;
  for (const k of [...modes, 'bound'] as (Mode | 'bound')[]) {
    const dash = k === 'bound' ? ' stroke-dasharray="5,3"' : '';
    o.push(
      `<line x1="${lx}" y1="58" x2="${lx + 26}" y2="58" stroke="${COLORS[k]}" stroke-width="${k === 'bound' ? 1.5 : 2.5}"${dash}/>`,
    );
    if (k !== 'bound') o.push(`<circle cx="${lx + 13}" cy="58" r="3" fill="${COLORS[k]}"/>`);
    o.push(`<text x="${lx + 32}" y="62">${esc(LABEL[k])}</text>`);
    lx += 40 + LABEL[k].length * 6.2;
  }

  cfgs.forEach((cfg, ri) => {
    const y0 = top + ri * ch;
    const run = res.runs.find((r) => r.layout === cfg.layout && r.placement === cfg.placement);
    const lm = /^(\d+)x(\d+)$/.exec(cfg.layout);
    o.push(
      `<text x="8" y="${y0 + mt + ph / 2 - 8}" font-weight="bold">${esc(cfg.layout)} ${esc(cfg.placement)}</text>`,
    );
    o.push(`<text x="8" y="${y0 + mt + ph / 2 + 8}" fill="#444">${esc(`${Number(lm?.[1]) / 2} node(s)/site`)}</text>`);
    o.push(`<text x="8" y="${y0 + mt + ph / 2 + 22}" fill="#444">${esc(`× ${lm?.[2]} slot(s)`)}</text>`);
    const han = run && res.runs.find((r) => r.layout === cfg.layout && r.placement === cfg.placement && r.han);
    if (han?.han)
      o.push(
        `<text x="8" y="${y0 + mt + ph / 2 + 36}" fill="${COLORS.han}">${han.han.active ? 'HAN active' : 'HAN gave up'}</text>`,
      );
    colls.forEach((coll, ci) => {
      const x0 = left + ci * cw + ml;
      const py = y0 + mt;
      o.push(`<g transform="translate(${x0},${py})">`);
      o.push(`<rect x="0" y="0" width="${pw}" height="${ph}" fill="#fafafa" stroke="#bbb"/>`);
      o.push(`<text x="${pw / 2}" y="-6" text-anchor="middle" font-weight="bold">${esc(coll)}</text>`);
      // y grid (decades) and labels.
      for (let d = yLo; d < yHi * 0.999; d *= 10) {
        for (const k of [2, 5]) {
          const y = fy(d * k);
          o.push(`<line x1="0" y1="${y.toFixed(1)}" x2="${pw}" y2="${y.toFixed(1)}" stroke="#f0f0f0"/>`);
        }
      }
      for (let d = yLo; d <= yHi * 1.0001; d *= 10) {
        const y = fy(d);
        o.push(`<line x1="0" y1="${y.toFixed(1)}" x2="${pw}" y2="${y.toFixed(1)}" stroke="#e3e3e3"/>`);
        o.push(
          `<text x="-4" y="${(y + 3.5).toFixed(1)}" text-anchor="end" fill="#555">${esc(msLabel(Number(d.toPrecision(1))))}</text>`,
        );
      }
      const rows = res.rows.filter((r) => r.layout === cfg.layout && r.placement === cfg.placement && r.coll === coll);
      if (coll === 'barrier') {
        drawBars(o, rows[0], modes, pw, ph, fy);
      } else {
        // Ticks at every size; labels from the largest down, skipping those that would collide.
        let lastLabel = Infinity;
        for (const b of [...sizes].reverse()) {
          const x = fx(b);
          o.push(`<line x1="${x.toFixed(1)}" y1="${ph}" x2="${x.toFixed(1)}" y2="${ph + 3}" stroke="#888"/>`);
          if (lastLabel - x < 24) continue;
          lastLabel = x;
          o.push(
            `<text x="${x.toFixed(1)}" y="${ph + 14}" text-anchor="middle" fill="#555" font-size="9">${esc(sizeLabel(b))}</text>`,
          );
        }
        const line = (pts: [number, number][], color: string, dash: boolean, dots: boolean): void => {
          if (pts.length === 0) return;
          const d = pts.map(([x, y], i) => `${i ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
          o.push(
            `<path d="${d}" fill="none" stroke="${color}" stroke-width="${dash ? 1.5 : 2}"${dash ? ' stroke-dasharray="5,3"' : ''}/>`,
          );
          if (dots)
            for (const [x, y] of pts)
              o.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="2.5" fill="${color}"/>`);
        };
        line(
          rows.filter((r) => r.bound.timeUs > 0).map((r) => [fx(r.bytes), fy(r.bound.timeUs / 1000)]),
          COLORS.bound,
          true,
          false,
        );
        for (const md of modes) {
          const ok = rows.filter((r) => (r.modes[md]?.medianUs ?? 0) > 0);
          line(
            ok.map((r) => [fx(r.bytes), fy((r.modes[md]?.medianUs as number) / 1000)]),
            COLORS[md],
            false,
            true,
          );
          // Wrong results (the check after the timed loop failed): a red cross on the point.
          for (const r of ok.filter((x) => x.modes[md]?.ok === false)) {
            const x = fx(r.bytes);
            const y = fy((r.modes[md]?.medianUs as number) / 1000);
            o.push(
              `<path d="M${(x - 4).toFixed(1)},${(y - 4).toFixed(1)} L${(x + 4).toFixed(1)},${(y + 4).toFixed(1)} M${(x - 4).toFixed(1)},${(y + 4).toFixed(1)} L${(x + 4).toFixed(1)},${(y - 4).toFixed(1)}" stroke="#d62728" stroke-width="2"/>`,
            );
          }
        }
      }
      if (ri === cfgs.length - 1 || coll === 'barrier') {
        o.push(
          `<text x="${pw / 2}" y="${ph + 26}" text-anchor="middle" fill="#555" font-size="9">${coll === 'barrier' ? 'one bar per mode' : 'message size (bytes)'}</text>`,
        );
      }
      o.push('</g>');
    });
  });
  o.push(
    `<text x="10" y="${H - 8}" fill="#666" font-size="10">${esc('y: latency in ms (same scale in every panel). Red ✗: the result was wrong. Data: collectives.json; tables: collectives.md.')}</text>`,
  );
  o.push('</svg>');
  return `${o.join('\n')}\n`;
}

function drawBars(
  o: string[],
  row: Row | undefined,
  modes: Mode[],
  pw: number,
  ph: number,
  fy: (ms: number) => number,
): void {
  if (!row) return;
  const n = modes.length;
  const bw = Math.min(34, (pw - 20) / Math.max(1, n));
  const x0 = (pw - bw * n) / 2;
  modes.forEach((md, i) => {
    const v = row.modes[md]?.medianUs;
    if (!v || v <= 0) return;
    const y = fy(v / 1000);
    o.push(
      `<rect x="${(x0 + i * bw + 3).toFixed(1)}" y="${y.toFixed(1)}" width="${(bw - 6).toFixed(1)}" height="${Math.max(0, ph - y).toFixed(1)}" fill="${COLORS[md]}"/>`,
    );
    o.push(
      `<text x="${(x0 + i * bw + bw / 2).toFixed(1)}" y="${(y - 3).toFixed(1)}" text-anchor="middle" font-size="9">${(v / 1000).toFixed(1)}</text>`,
    );
  });
  if (row.bound.timeUs > 0) {
    const y = fy(row.bound.timeUs / 1000);
    o.push(
      `<line x1="0" y1="${y.toFixed(1)}" x2="${pw}" y2="${y.toFixed(1)}" stroke="${COLORS.bound}" stroke-dasharray="5,3" stroke-width="1.5"/>`,
    );
  }
}
