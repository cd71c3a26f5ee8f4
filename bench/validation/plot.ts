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
  const hi = Math.max(1.2, ...points.flatMap((p) => [p.measured, p.predicted])) * 1.08;
  const lo = Math.max(0, Math.min(0.9, ...points.flatMap((p) => [p.measured, p.predicted])) * 0.95);
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
  const groups = [...new Set(points.map((p) => p.series))];
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: 720, height: 560 });
  chart.setOption({
    animation: false,
    title: { text: title, left: 'center', textStyle: { fontSize: 14 } },
    legend: { top: 28, data: groups },
    grid: { left: 70, right: 30, top: 70, bottom: 60 },
    xAxis: { type: 'value', name: 'measured slowdown', nameLocation: 'middle', nameGap: 30, min: lo, max: hi },
    yAxis: { type: 'value', name: 'predicted slowdown', nameLocation: 'middle', nameGap: 45, min: lo, max: hi },
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
