// The live scenario's timeline as SVG (ECharts rendered on the server, as bench/validation/plot.ts):
// one row per job and run, a bar for each placement it had (on one site, or split over A and B),
// each relocation marked.
import * as echarts from 'echarts';
import type { ScenarioRun } from './live-run.js';

const COLORS: Record<string, string> = { A: '#4e79a7', B: '#f28e2b', split: '#e15759' };

export function timelineSvg(runs: ScenarioRun[], title: string): string {
  const rows: string[] = [];
  const bars: { value: [number, number, number, string]; itemStyle: { color: string } }[] = [];
  const marks: [number, number][] = [];
  for (const run of runs) {
    for (const j of run.jobs) {
      const row = rows.length;
      rows.push(`${j.name} (relocation ${run.relocate ? 'on' : 'off'})`);
      j.placements.forEach((p, i) => {
        const end = i + 1 < j.placements.length ? j.placements[i + 1].t : j.ended;
        const sites = Object.entries(p.sites).filter(([, n]) => n > 0);
        const label = sites.map(([s, n]) => `${s}${n}`).join('+');
        const color = sites.length > 1 ? COLORS.split : (COLORS[sites[0]?.[0] ?? 'A'] ?? '#888');
        bars.push({ value: [row, Math.max(p.t, j.started), end, label], itemStyle: { color } });
        if (i > 0) marks.push([p.t, row]);
      });
    }
  }
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: 900, height: 120 + rows.length * 34 });
  chart.setOption({
    animation: false,
    title: { text: title, left: 'center', textStyle: { fontSize: 14 } },
    legend: { top: 28, data: ['on site A', 'on site B', 'split over A and B', 'relocation'] },
    grid: { left: 190, right: 30, top: 70, bottom: 45 },
    xAxis: { type: 'value', name: 'seconds', nameLocation: 'middle', nameGap: 28, min: 0 },
    yAxis: { type: 'category', data: rows, inverse: true },
    series: [
      {
        type: 'custom',
        renderItem: (
          p: { dataIndex: number },
          api: {
            value: (i: number) => number;
            coord: (v: [number, number]) => [number, number];
            size: (v: [number, number]) => [number, number];
          },
        ) => {
          const row = api.value(0);
          const [x0, y] = api.coord([api.value(1), row]);
          const [x1] = api.coord([api.value(2), row]);
          const h = api.size([0, 1])[1] * 0.6;
          const bar = bars[p.dataIndex];
          return {
            type: 'rect',
            shape: { x: x0, y: y - h / 2, width: Math.max(1, x1 - x0), height: h },
            style: { fill: bar.itemStyle.color, stroke: '#fff' },
            textContent: { style: { text: bar.value[3], fill: '#fff', fontSize: 9 } },
            textConfig: { position: 'inside' },
          };
        },
        encode: { x: [1, 2], y: 0 },
        label: {
          show: true,
          position: 'inside',
          fontSize: 9,
          color: '#fff',
          formatter: (x: { value: unknown[] }) => String(x.value[3]),
        },
        data: bars,
      },
      ...(['on site A', 'on site B', 'split over A and B'] as const).map((name, i) => ({
        name,
        type: 'line' as const,
        data: [],
        itemStyle: { color: [COLORS.A, COLORS.B, COLORS.split][i] },
      })),
      {
        name: 'relocation',
        type: 'scatter',
        symbol: 'triangle',
        symbolSize: 12,
        itemStyle: { color: '#222' },
        data: marks,
      },
    ],
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}
