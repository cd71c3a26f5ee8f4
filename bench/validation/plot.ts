// The validation's scatter plot, predicted against measured slowdown, as SVG: ECharts rendered on
// the server (no DOM), one series per (RTT, placement), the diagonal and the ±30% band dashed.
import * as echarts from 'echarts';

export interface PlotPoint {
  program: string;
  series: string;
  measured: number;
  predicted: number;
}

export function scatterSvg(points: PlotPoint[], title: string): string {
  const all = points.flatMap((p) => [p.measured, p.predicted]).filter(Number.isFinite);
  // axes from a round number below the smallest point to one above the largest, both the same
  const hi = Math.ceil(Math.max(1.2, ...all) * 1.05 * 5) / 5;
  const lo = Math.floor(Math.min(0.9, ...all) * 0.95 * 10) / 10;
  const line = (name: string, k: number, type: 'solid' | 'dashed') => ({
    name,
    type: 'line' as const,
    data: [
      [lo, lo * k],
      [hi, hi * k],
    ],
    symbol: 'none',
    lineStyle: { color: '#888', type, width: 1 },
    silent: true,
  });
  const axis = {
    type: 'value' as const,
    nameLocation: 'middle' as const,
    min: lo,
    max: hi,
    axisLabel: { formatter: (v: number) => v.toFixed(1) },
  };
  const groups = [...new Set(points.map((p) => p.series))];
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: 720, height: 560 });
  chart.setOption({
    animation: false,
    title: { text: title, left: 'center', textStyle: { fontSize: 14 } },
    legend: { top: 30, data: groups },
    grid: { left: 70, right: 30, top: 75, bottom: 60 },
    xAxis: { ...axis, name: 'measured slowdown', nameGap: 30 },
    yAxis: { ...axis, name: 'predicted slowdown', nameGap: 45 },
    series: [
      line('predicted = measured', 1, 'solid'),
      line('+30%', 1.3, 'dashed'),
      line('-30%', 0.7, 'dashed'),
      ...groups.map((g) => ({
        name: g,
        type: 'scatter' as const,
        symbolSize: 9,
        data: points.filter((p) => p.series === g).map((p) => ({ value: [p.measured, p.predicted], name: p.program })),
        label: { show: true, position: 'right' as const, fontSize: 9, formatter: (x: { name: string }) => x.name },
      })),
    ],
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}
