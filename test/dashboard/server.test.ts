// The dashboard server without a browser: who may see it (the token off loopback, the Host header
// on loopback), and the live stream's memory with a client that stops reading (dropped, and never
// more than one event held per client meanwhile). A real mpirun job gives the stream its content.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monitorCommand } from '../../src/cli/monitor-command.js';
import { DashboardError, startDashboard } from '../../src/dashboard/server.js';
import { Monitor } from '../../src/monitor/monitor.js';
import { nativeBuildDir } from '../../src/native/paths.js';
import { mpirun } from '../helpers/mpi.js';
import { until } from './helpers.js';

const JOB = 'dash-sse';
let monitor: Monitor;

beforeAll(async () => {
  monitor = new Monitor();
  const [addr] = await monitor.listen('tcp://127.0.0.1:0');
  const r = await mpirun({
    np: 4,
    program: path.join(nativeBuildDir, 'sitempi-demo'),
    args: ['1000', '100'],
    env: { SITEMPI_MONITOR: addr, SITEMPI_JOB: JOB },
  });
  expect(r.code, r.stderr).toBe(0);
  await until(() => monitor.endedJobs().some((j) => j.id === JOB), 20_000, 'the job to end');
});
afterAll(async () => {
  await monitor?.close();
});

describe('who may see the dashboard', () => {
  it('refuses a non-loopback address without a token, in the API and on the command line', async () => {
    await expect(startDashboard({ monitor, address: '0.0.0.0:0' })).rejects.toThrow(DashboardError);
    await expect(startDashboard({ monitor, address: '0.0.0.0:0' })).rejects.toThrow(/without a token/);
    const saved = process.env.SITEMPI_TOKEN;
    delete process.env.SITEMPI_TOKEN;
    try {
      await expect(monitorCommand(['--http', '0.0.0.0:0', '--quiet'])).rejects.toThrow(/without a token/);
      await expect(monitorCommand(['--http', 'nonsense', '--quiet'])).rejects.toThrow(/expected HOST:PORT/);
    } finally {
      if (saved !== undefined) process.env.SITEMPI_TOKEN = saved;
    }
  });

  it('off loopback: 401 without the token; a bearer header or the login cookie lets in', async () => {
    const token = 'dash-secret-token';
    const d = await startDashboard({ monitor, address: '0.0.0.0:0', token });
    try {
      const base = `http://127.0.0.1:${d.address.port}`;
      for (const p of ['/', '/api/state', '/metrics', '/events', `/api/jobs/${JOB}`])
        expect((await fetch(base + p)).status, p).toBe(401);
      expect((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      const m = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(m.status).toBe(200);
      expect(await m.text()).toContain(`sitempi_job_records_total{job="${JOB}"}`);
      expect((await fetch(`${base}/login?token=wrong`, { redirect: 'manual' })).status).toBe(401);
      const login = await fetch(`${base}/login?token=${token}`, { redirect: 'manual' });
      expect(login.status).toBe(303);
      const cookie = login.headers.get('set-cookie')!.split(';')[0];
      expect(cookie).not.toContain(token); // an HMAC of it, not the token
      const page = await fetch(`${base}/`, { headers: { cookie } });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('sitempi monitor');
      expect((await fetch(`${base}/`, { headers: { cookie: `${cookie}x` } })).status).toBe(401);
    } finally {
      await d.close();
    }
  });

  it('on loopback: no token, but only loopback host names (no DNS rebinding)', async () => {
    const d = await startDashboard({ monitor, address: '127.0.0.1:0', token: 'ignored-on-loopback' });
    try {
      expect((await fetch(`${d.url}api/state`)).status).toBe(200);
      const foreign = await new Promise<number>((resolve, reject) => {
        const c = spawn('curl', [
          '-s',
          '-o',
          '/dev/null',
          '-w',
          '%{http_code}',
          '-H',
          'Host: evil.example',
          `${d.url}api/state`,
        ]);
        let out = '';
        c.stdout.on('data', (b: Buffer) => (out += String(b)));
        c.on('error', reject);
        c.on('close', () => resolve(Number(out)));
      });
      expect(foreign).toBe(403);
    } finally {
      await d.close();
    }
  });
});

describe('the live stream', () => {
  it('a client that stops reading is dropped; until then it holds at most one event', async () => {
    const d = await startDashboard({ monitor, address: '127.0.0.1:0', intervalMs: 2, maxStalls: 10 });
    try {
      // A healthy client that reads every event.
      const ctl = new AbortController();
      const events: number[] = [];
      const healthy = fetch(`${d.url}events?job=${JOB}`, { signal: ctl.signal }).then(async (res) => {
        const reader = res.body!.getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buf += new TextDecoder().decode(value);
          let end;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            const ev = buf.slice(0, end);
            buf = buf.slice(end + 2);
            if (ev.startsWith('event: state')) events.push(ev.length);
          }
        }
      });
      healthy.catch(() => {});
      await until(() => events.length > 0, 10_000, 'the first event');
      // A client with a tiny receive buffer that never reads.
      const stalled = spawn('python3', [
        '-c',
        `import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
s.connect(('127.0.0.1', ${d.address.port}))
s.sendall(b'GET /events?job=${JOB} HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n')
time.sleep(60)`,
      ]);
      let maxHeld = 0;
      try {
        await until(
          () => {
            maxHeld = Math.max(maxHeld, d.sse.bufferedBytes());
            return d.sse.dropped >= 1;
          },
          30_000,
          'the stalled client to be dropped',
        );
      } finally {
        stalled.kill('SIGKILL');
      }
      const before = events.length;
      await until(() => events.length > before + 5, 10_000, 'more events for the healthy client');
      expect(d.sse.size).toBe(1);
      expect(d.sse.coalesced).toBeGreaterThanOrEqual(10);
      // what the server held for its clients: at most about one event each (plus the headers)
      expect(maxHeld).toBeLessThanOrEqual(2 * Math.max(...events) + 1024);
      ctl.abort();
    } finally {
      await d.close();
    }
  });
});
