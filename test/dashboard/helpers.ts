// What the dashboard tests share: the CLI monitor in a process of its own, a value of /metrics
// (parsed with a Prometheus text-format parser), and the coloured pixels of an ECharts canvas.
import parsePrometheus from 'parse-prometheus-text-format';
import type { Page } from 'playwright-core';
import { tcpMonitorProcess, type TcpMonitor } from '../helpers/cli.js';

export const CHROMIUM = '/usr/bin/chromium';

export async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface MonitorProcess extends TcpMonitor {
  /** the dashboard (http://.../) */
  url: string;
}

/** `sitempi monitor --listen tcp://127.0.0.1:0 ARGS` (run from the sources); resolves once both listen. */
export async function monitorProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<MonitorProcess> {
  const m = await tcpMonitorProcess(args, env);
  const url = /dashboard on (http:\/\/\S+)/.exec(m.err())?.[1];
  if (!url) {
    m.child.kill('SIGKILL');
    throw new Error(`the monitor did not start its dashboard: ${m.err()}`);
  }
  return { ...m, url };
}

/** The samples of one metric family in /metrics text, as {labels, value}. */
export function samples(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  const fam = parsePrometheus(text).find((f) => f.name === name);
  return (fam?.metrics ?? []).map((m) => ({ labels: m.labels ?? {}, value: Number(m.value) }));
}

/** The value of `name` with these labels (undefined when absent). */
export function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  return samples(text, name).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

/**
 * Coloured pixels (not white, grey or black) of the canvas in `selector`, inside its plot area
 * (the margins `grid` of the ECharts option: axis labels and the colour scale are outside it).
 */
export async function colouredPixels(
  page: Page,
  selector: string,
  grid: { left: number; right: number; top: number; bottom: number },
): Promise<number> {
  return page.evaluate(
    ([sel, g]) => {
      // ECharts draws on layers (a canvas each): all of them count
      const canvases = [...document.querySelectorAll(`${sel} canvas`)] as HTMLCanvasElement[];
      let n = 0;
      for (const c of canvases) {
        const ratio = c.width / c.clientWidth;
        const x0 = Math.round(g.left * ratio),
          y0 = Math.round(g.top * ratio);
        const w = Math.round(c.width - (g.left + g.right) * ratio),
          h = Math.round(c.height - (g.top + g.bottom) * ratio);
        const px = c.getContext('2d')!.getImageData(x0, y0, w, h).data;
        for (let i = 0; i < px.length; i += 4) {
          const [r, gg, b, a] = [px[i], px[i + 1], px[i + 2], px[i + 3]];
          if (a > 128 && Math.max(r, gg, b) - Math.min(r, gg, b) > 60) n++;
        }
      }
      return n;
    },
    [selector, grid] as const,
  );
}
