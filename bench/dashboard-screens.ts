// Screenshots of the live dashboard during a relocation on the testbed (issue 16): the 8-rank
// Allreduce job of bench/relocation starts interleaved over sites A and B, is found
// network-intensive and consolidated on one site; after the move headless Chromium pauses the page
// (it keeps that state) and takes the job's view and the sites' view (the WAN link before and
// after). Needs root (network namespaces), /usr/bin/chromium and the build (dist/).
//
//   npx tsc -p tsconfig.json && node dist/bench/dashboard-screens.js [--seconds 40] [--out docs/img]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { compileMpi, rootEnv } from '../src/mpi/toolchain.js';
import { packageRoot, wanemuPath } from '../src/native/paths.js';
import { down, up } from '../src/testbed/testbed.js';
import { arg } from './args.js';
import { interleavedNodes, nodeHosts, relocatingRunArgs } from './relocation/testbed-run.js';

const opts = {
  stateDir: path.join(os.tmpdir(), 'sitempi-dashboard-screens'),
  prefix: 'smdash',
  mgmtSubnet: '10.228.0.0/24',
  dataSubnet: '10.229.0.0/24',
  wanemuPath,
};

interface StateJob {
  id: string;
  epoch: number | null;
  state: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(f: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f().catch((e: Error) => {
      if (process.env.SITEMPI_SCREENS_DEBUG)
        process.stderr.write(`${what}: ${e.message} ${String((e as { cause?: unknown }).cause)}\n`);
      return undefined;
    });
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** Pauses the page (it keeps the state of this moment: a busy machine may take long to draw it), shoots each tab, resumes. */
async function shoot(page: Page, shots: Array<[tab: string, file: string]>): Promise<void> {
  const click = (sel: string) => page.$eval(sel, (e) => (e as HTMLElement).click());
  await click('#pause');
  for (const [tab, file] of shots) {
    await click(`nav button[data-tab="${tab}"]`);
    await sleep(500); // charts resized to the shown tab
    await page.screenshot({ path: file, fullPage: true });
    process.stderr.write(`wrote ${file}\n`);
  }
  await click('nav button[data-tab="jobs"]');
  await click('#pause');
}

export async function dashboardScreens(seconds: number, out: string): Promise<string[]> {
  const program = compileMpi('bench/relocation/allreduce_timeline.c');
  fs.mkdirSync(out, { recursive: true });
  await down(opts);
  const st = await up({ sites: { A: 4, B: 4 }, slots: 1, rttMs: 10, bandwidth: 1e9 }, opts);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  // The job (8 busy ranks) runs niced: the browser must draw while it runs, on however few cores.
  const child = spawn(
    'nice',
    [
      '-n',
      '15',
      process.execPath,
      path.join(packageRoot, 'bin', 'sitempi.js'),
      ...relocatingRunArgs({
        stateDir: opts.stateDir,
        siteCapacity: 'A=8,B=8',
        minObserve: 10, // epoch 1 long enough to be seen
        report: path.join(opts.stateDir, 'report.json'),
        hosts: nodeHosts(st, interleavedNodes(4)),
        command: [program, String(seconds), String(256 * 1024)],
        extra: ['--http', '127.0.0.1:0', '--job', 'allreduce-interleaved'],
      }),
    ],
    { env: rootEnv(), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += String(d)));
  const exited = new Promise<number>((res) =>
    child.on('close', (c) => {
      if (process.env.SITEMPI_SCREENS_DEBUG)
        process.stderr.write(`${new Date().toISOString()} sitempi run exited: ${c}\n`);
      res(c ?? 1);
    }),
  );
  const files: string[] = [];
  try {
    const url = await until(async () => /dashboard on (http:\/\/\S+)/.exec(err)?.[1], 60_000, 'the dashboard');
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const loading = page.goto(url, { waitUntil: 'domcontentloaded' }); // meanwhile, watch the job
    const job = async () => {
      const t0 = Date.now();
      const s = (await (await fetch(`${url}api/state`)).json()) as { jobs: StateJob[] };
      if (process.env.SITEMPI_SCREENS_DEBUG)
        process.stderr.write(`${new Date().toISOString()} epoch ${s.jobs[0]?.epoch} in ${Date.now() - t0} ms\n`);
      return s.jobs[0];
    };
    await until(async () => ((await job())?.epoch ? true : undefined), 90_000, 'the job');
    await loading;
    // after: consolidated (epoch 2), the relocation with its cost and gain, the link quiet (the
    // run's dashboard closes with the job: well before its end)
    await until(async () => (((await job())?.epoch ?? 0) >= 2 ? true : undefined), seconds * 1000, 'the relocation');
    await sleep(6000);
    files.push(path.join(out, 'dashboard-job.png'), path.join(out, 'dashboard-sites.png'));
    await shoot(page, [
      ['jobs', files.at(-2)!],
      ['sites', files.at(-1)!],
    ]);
    const code = await exited;
    if (code !== 0) throw new Error(`sitempi run exited with ${code}: ${err}`);
    return files;
  } catch (e) {
    throw new Error(`${(e as Error).message}\nsitempi run said:\n${err.slice(-3000)}`);
  } finally {
    child.kill('SIGTERM');
    await browser.close();
    await down(opts);
  }
}

if (process.argv[1] && /bench[\\/]dashboard-screens\.[jt]s$/.test(path.resolve(process.argv[1]))) {
  const seconds = Number(arg('--seconds', '40'));
  const out = arg('--out', path.join(packageRoot, 'docs', 'img'));
  dashboardScreens(seconds, out).then(
    (f) => process.stdout.write(`${f.join('\n')}\n`),
    (e: Error) => {
      process.stderr.write(`dashboard-screens: ${e.message}\n`);
      process.exitCode = 1;
    },
  );
}
