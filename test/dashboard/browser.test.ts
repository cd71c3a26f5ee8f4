// The dashboard in a real browser (issue 16): `sitempi monitor --http` while a real mpirun job
// streams to it; headless Chromium sees the job appear, its counters grow while it runs, the
// heatmap and the WAN link chart drawn, and, once it ended, the numbers of its JSON report.
// /metrics, parsed as Prometheus text, has the report's counters.
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileMpi, mpirun, tempDir } from '../helpers/mpi.js';
import { isRoot } from '../helpers/root.js';
import { CHROMIUM, colouredPixels, monitorProcess, sample, until, type MonitorProcess } from './helpers.js';

const JOB = 'dash-browser';
// Skipped only where Chromium cannot be installed (not root); as root (CI) a missing one fails it.
const runIt = fs.existsSync(CHROMIUM) || isRoot;
if (!runIt) console.warn(`[skipped] the dashboard's browser test: ${CHROMIUM} is missing (apt-get install chromium)`);

interface ReportJob {
  records: number;
  mpiSeconds: number;
  wallSeconds: number;
  matrix: { bytes: number[][] };
  ranks: Array<{ records: number; mpiSeconds: number }>;
  dropped: { records: number };
  classification: { verdict: string; numbers: { crossBytesPerSecond: number } };
}

describe.skipIf(!runIt)('the live dashboard in headless Chromium', () => {
  let mon: MonitorProcess;
  let browser: Browser;
  let page: Page;
  const dir = tempDir('dashboard');

  beforeAll(async () => {
    mon = await monitorProcess(['--http', '127.0.0.1:0', '--report-dir', dir, '--json', '--sites', 'A:0-1;B:2-3']);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  });
  afterAll(async () => {
    await browser?.close();
    mon?.child.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('shows a running job live, draws its charts, and ends with the numbers of its report', async () => {
    await page.goto(mon.url);
    // The job runs until told to stop, so it is watched live however fast or loaded the machine is.
    const stopFile = path.join(dir, 'stop');
    const job = mpirun({
      np: 4,
      program: compileMpi('test/dashboard/programs/halo_until.c'),
      args: [stopFile, '120'],
      env: { SITEMPI_MONITOR: mon.addr, SITEMPI_JOB: JOB },
    });
    const row = `#jobs tr[data-job="${JOB}"]`;
    await page.waitForSelector(row, { timeout: 60_000 });
    // Counters grow while it runs (pushed by the server: the page is never reloaded).
    const seen: number[] = [];
    const cell = (k: string) =>
      page.$eval(`${row} [data-k="${k}"]`, (e) => e.getAttribute('data-value') ?? e.textContent);
    await until(
      async () => {
        if ((await cell('state')) !== 'running') return true;
        const r = Number(await cell('records'));
        if (seen.at(-1) !== r) seen.push(r);
        return new Set(seen.filter((x) => x > 0)).size >= 2;
      },
      60_000,
      'the records counter to grow',
    );
    expect(seen.filter((x) => x > 0).length, `records seen while running: ${seen}`).toBeGreaterThanOrEqual(2);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    // the heatmap and the link chart are drawn
    await until(
      async () => (await colouredPixels(page, '#chart-matrix', { left: 60, right: 20, top: 10, bottom: 90 })) > 100,
      20_000,
      'the heatmap',
    );
    await page.click('nav button[data-tab="sites"]');
    await until(
      async () => (await colouredPixels(page, '#chart-links', { left: 70, right: 20, top: 30, bottom: 30 })) > 20,
      20_000,
      'the link chart',
    );
    expect(await page.$$eval('#sites li', (l) => l.length)).toBeGreaterThan(0);
    await page.click('nav button[data-tab="jobs"]');

    fs.writeFileSync(stopFile, '');
    const run = await job;
    expect(run.code, run.stderr).toBe(0);
    const reportFile = path.join(dir, `${JOB}.json`);
    await until(() => fs.existsSync(reportFile), 30_000, 'the report');
    const rep = (JSON.parse(fs.readFileSync(reportFile, 'utf8')) as { jobs: ReportJob[] }).jobs[0];
    await until(async () => String(await cell('state')).startsWith('ended'), 20_000, 'the job to end on the page');
    const shown = async (k: string) => page.$eval(`#numbers [data-k="${k}"]`, (e) => e.getAttribute('data-value'));
    expect(Number(await shown('records'))).toBe(rep.records);
    expect(Number(await shown('mpiSeconds'))).toBe(rep.mpiSeconds);
    expect(Number(await shown('wallSeconds'))).toBe(rep.wallSeconds);
    expect(Number(await shown('crossBytesPerSecond'))).toBe(rep.classification.numbers.crossBytesPerSecond);
    expect(Number(await shown('droppedRecords'))).toBe(rep.dropped.records);
    expect(await shown('verdict')).toBe(rep.classification.verdict);
    const totalBytes = rep.matrix.bytes.flat().reduce((a, b) => a + b, 0);
    expect(totalBytes).toBeGreaterThan(0);
    expect(Number(await shown('bytes'))).toBe(totalBytes);

    // /metrics: the report's counters, per job and per rank, and the bytes that crossed A -> B
    const crossAB = rep.matrix.bytes.reduce((s, row, src) => s + (src < 2 ? row[2] + row[3] : 0), 0);
    let text = '';
    await until(
      async () => {
        text = await (await fetch(`${mon.url}metrics`)).text();
        return sample(text, 'sitempi_wan_link_bytes_total', { from: 'A', to: 'B' }) === crossAB;
      },
      10_000,
      `sitempi_wan_link_bytes_total{from="A",to="B"} = ${crossAB}`,
    );
    const j = { job: JOB };
    expect(sample(text, 'sitempi_job_records_total', j)).toBe(rep.records);
    expect(sample(text, 'sitempi_job_mpi_seconds_total', j)).toBe(rep.mpiSeconds);
    expect(sample(text, 'sitempi_job_bytes_total', j)).toBe(totalBytes);
    expect(sample(text, 'sitempi_job_dropped_records_total', j)).toBe(rep.dropped.records);
    expect(sample(text, 'sitempi_job_verdict', { ...j, verdict: rep.classification.verdict })).toBe(1);
    expect(sample(text, 'sitempi_job_placement_epoch', j)).toBe(1);
    rep.ranks.forEach((r, i) => {
      const l = { ...j, rank: String(i) };
      expect(sample(text, 'sitempi_rank_records_total', l)).toBe(r.records);
      expect(sample(text, 'sitempi_rank_mpi_seconds_total', l)).toBe(r.mpiSeconds);
      expect(sample(text, 'sitempi_rank_sent_bytes_total', l)).toBe(rep.matrix.bytes[i].reduce((a, b) => a + b, 0));
    });
    expect(sample(text, 'process_resident_memory_bytes', {})).toBeGreaterThan(0);
    expect(sample(text, 'sitempi_monitor_jobs', { state: 'ended' })).toBeGreaterThanOrEqual(1);
  }, 150_000);
});
