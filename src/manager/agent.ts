// `sitempi agent`: samples its node's /proc every few seconds and reports to the manager over one
// connection, reconnecting when the manager goes away. A node agent never exits on its own.
import type net from 'node:net';
import { connect } from './control.js';
import { sampleProc, type CpuTimes } from './proc-sample.js';

export interface AgentOptions {
  manager: string;
  token?: string;
  node: string;
  intervalMs: number;
  /** Problems (unreachable manager, refused samples), once per kind in a row. */
  log: (m: string) => void;
}

export function runAgent(o: AgentOptions): { stop(): void } {
  let sock: net.Socket | null = null;
  let prev: CpuTimes | null = null;
  let stopped = false;
  let lastProblem = '';
  const problem = (m: string) => {
    if (m !== lastProblem) o.log(m);
    lastProblem = m;
  };
  const open = () => {
    const s = connect(o.manager);
    s.setEncoding('utf8');
    let buf = '';
    s.on('data', (d: string) => {
      buf = (buf + d).slice(-65536);
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const r = JSON.parse(line) as { ok?: boolean; error?: string };
          if (r.ok === false) problem(`the manager refused a sample: ${r.error}`);
          else lastProblem = '';
        } catch {
          /* not ours to judge */
        }
      }
    });
    s.on('error', (e) => problem(`cannot reach the manager at ${o.manager}: ${e.message}`));
    s.on('close', () => {
      if (sock === s) sock = null;
    });
    return s;
  };
  const tick = () => {
    if (stopped) return;
    try {
      const { sample, cpu } = sampleProc(prev);
      prev = cpu;
      if (!sock || sock.destroyed) sock = open();
      sock.write(
        JSON.stringify({ op: 'usage', token: o.token, node: o.node, intervalMs: o.intervalMs, sample }) + '\n',
      );
    } catch (e) {
      problem(`sampling failed: ${(e as Error).message}`);
    }
  };
  tick();
  const timer = setInterval(tick, o.intervalMs);
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
      sock?.destroy();
    },
  };
}
