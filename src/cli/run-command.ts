// sitempi run: an MPI program under the shim (through mpirun) with an embedded monitor, its report after it.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseNumber, takeOptions, UsageError } from './args.js';
import { dashboardFromOptions, HTTP_OPTS } from '../dashboard/cli.js';
import { PLACEMENT_OPTS } from '../placement/cli.js';
import { placementService, render, replayBytesOption, REPORT_OPTS, reportOptions } from './common.js';
import { Progress } from './progress.js';
import { RECORD_OPTS, recordMaxBytes, startRecording } from './record-options.js';
import { parseReportMode, writeReportFile } from './report-file.js';
import { tokenFromOptions } from './secrets.js';
import { USAGE } from './usage.js';
import { TRACE_OPTS, traceRequest, writeTraceFile } from '../trace/cli.js';

/** Variables that reach the ranks through mpirun's environment, never its command line. */
const SECRET_VARS = new Set(['SITEMPI_TOKEN', 'SITEMPI_JOB_KEY']);

export async function runCommand(argv: string[]): Promise<number> {
  const spec = {
    '--json': 'flag',
    '--report': 'value',
    '--report-mode': 'value',
    '--token': 'value',
    '--token-file': 'value',
    '--listen': 'value',
    '--monitor-host': 'value',
    '--job': 'value',
    '--lib': 'value',
    '--mpirun': 'value',
    '--wait': 'value',
    '--no-progress': 'flag',
    '--name': 'value',
    '--history': 'value',
    '-h': 'flag',
    '--help': 'flag',
    ...REPORT_OPTS,
    ...PLACEMENT_OPTS,
    ...HTTP_OPTS,
    ...RECORD_OPTS,
    ...TRACE_OPTS,
  } as const;
  const { values, rest } = takeOptions(argv, spec, { stopAtUnknown: true });
  if (values.help || values.h) {
    process.stdout.write(USAGE);
    return 0;
  }
  // rest: [mpirun options...] [--] app args...
  const dd = rest.indexOf('--');
  const mpirunOpts = dd >= 0 ? rest.slice(0, dd) : [];
  const app = dd >= 0 ? rest.slice(dd + 1) : rest;
  if (app.length === 0) throw new UsageError('run needs a program: sitempi run [options] -- ./app [args]');

  const { shimToPreload } = await import('../native/paths.js');
  const lib = shimToPreload(typeof values.lib === 'string' ? values.lib : undefined);
  const mpirun = typeof values.mpirun === 'string' ? values.mpirun : (process.env.SITEMPI_MPIRUN ?? 'mpirun');
  const givenToken = tokenFromOptions(values, (m) => process.stderr.write(`sitempi: warning: ${m}\n`));
  const token = givenToken ?? crypto.randomBytes(16).toString('hex');
  const reportMode = parseReportMode(values['report-mode']);
  const jobId =
    typeof values.job === 'string'
      ? values.job
      : `run-${os.hostname()}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
  const waitMs = typeof values.wait === 'string' ? parseNumber(values.wait, '--wait') : 5000;
  const ro = reportOptions(values);
  const json = values.json === true;
  const reportFile = typeof values.report === 'string' ? values.report : undefined;
  const trace = traceRequest(values);
  const recordDir = typeof values['record-dir'] === 'string' ? values['record-dir'] : undefined;
  const recordMax = recordMaxBytes(values);
  if (recordMax !== undefined && !recordDir && !trace)
    throw new UsageError('--record-max-bytes needs --record-dir DIR or --trace FILE');

  // better-sqlite3 (a native module) is loaded only when a history is asked for
  const history =
    typeof values.history === 'string'
      ? (await import('../history/recorder.js')).historyFromOptions(values, ro.classify, (m) =>
          process.stderr.write(`sitempi: ${m}\n`),
        )
      : null;
  if (typeof values.name === 'string') history?.names.set(jobId, values.name);
  const { Monitor } = await import('../monitor/monitor.js');
  // Jobs end when mpirun is done (below), not on a linger timeout while it runs.
  const monitor = new Monitor({
    token,
    lingerMs: 24 * 3600 * 1000,
    updateIntervalMs: 1000,
    replayBytes: replayBytesOption(values),
  });
  monitor.on('error', (e) => process.stderr.write(`sitempi: monitor error: ${e.message}\n`));
  monitor.on('connectionError', (ev) =>
    process.stderr.write(`sitempi: rejected a connection from ${ev.remote}: ${ev.error.message}\n`),
  );
  const svc = await placementService(monitor, values, ro, (m) => process.stderr.write(`sitempi: ${m}\n`)).catch(
    async (e: Error) => {
      await monitor.close();
      throw e;
    },
  );
  history?.attach(svc);
  const log = (m: string) => process.stderr.write(`sitempi: ${m}\n`);
  // --trace alone records into a private temporary directory, removed once the trace is written
  const traceTmp = trace && !recordDir ? fs.mkdtempSync(path.join(os.tmpdir(), 'sitempi-trace-')) : undefined;
  const dropTraceTmp = () => traceTmp && fs.rmSync(traceTmp, { recursive: true, force: true });
  const recorder =
    recordDir || traceTmp
      ? await startRecording(monitor, (recordDir ?? traceTmp)!, recordMax, recordDir ? log : () => {}, 'sitempi').catch(
          async (e: Error) => {
            await monitor.close();
            await svc?.close();
            dropTraceTmp();
            throw e;
          },
        )
      : null;
  const dashboard = await dashboardFromOptions(values, {
    monitor,
    placement: svc,
    token: givenToken,
    classify: ro.classify,
    log,
    history: history && { list: () => history.store.list({ limit: 200 }) },
  }).catch(async (e: Error) => {
    await monitor.close();
    await recorder?.close();
    dropTraceTmp();
    await svc?.close();
    throw e;
  });
  let testbedArgs: string[] = [];
  if (values.testbed === true || typeof values['testbed-state'] === 'string') {
    const { mpirunArgs } = await import('../testbed/testbed.js');
    testbedArgs = await mpirunArgs({
      stateDir: typeof values['testbed-state'] === 'string' ? values['testbed-state'] : undefined,
    });
  }
  let tmpDir: string | undefined;
  let listen = typeof values.listen === 'string' ? values.listen : undefined;
  if (!listen) {
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sitempi-'));
    listen = `unix:${path.join(tmpDir, 'monitor.sock')}`;
  }
  const [addr] = await monitor.listen(listen);
  let monitorUrl = addr;
  if (addr.startsWith('tcp://')) {
    const m = /^tcp:\/\/(.*):(\d+)$/.exec(addr)!;
    const host =
      typeof values['monitor-host'] === 'string'
        ? values['monitor-host']
        : m[1] === '0.0.0.0' || m[1] === '[::]'
          ? os.hostname()
          : m[1];
    monitorUrl = `tcp://${host}:${m[2]}`;
  }

  const env: NodeJS.ProcessEnv = { ...process.env };
  if (process.getuid?.() === 0) {
    env.OMPI_ALLOW_RUN_AS_ROOT = '1';
    env.OMPI_ALLOW_RUN_AS_ROOT_CONFIRM = '1';
  }
  const ours: Record<string, string> = {
    LD_PRELOAD: lib,
    SITEMPI_MONITOR: monitorUrl,
    SITEMPI_TOKEN: token,
    SITEMPI_JOB: jobId,
  };
  // The job's key binds its ranks to it (only they know it); by environment, not on mpirun's command line.
  const jobKey = crypto.randomBytes(16).toString('hex');
  monitor.registerJob(jobId, { key: jobKey });
  ours.SITEMPI_JOB_KEY = jobKey;
  // A static map without an executor is where the ranks are: the shim can use it from MPI_Init on.
  if (svc && !svc.executor && typeof values.sites === 'string') ours.SITEMPI_SITES = values.sites;
  const xs: string[] = [];
  // Secrets go by environment (mpirun -x NAME forwards it): argv is readable by every user.
  for (const [k, v] of Object.entries(ours)) {
    if (SECRET_VARS.has(k)) {
      env[k] = v;
      xs.push('-x', k);
    } else xs.push('-x', `${k}=${v}`);
  }
  for (const k of Object.keys(process.env)) {
    if (
      k.startsWith('SITEMPI_') &&
      !(k in ours) &&
      k !== 'SITEMPI_LIB' &&
      k !== 'SITEMPI_MPIRUN' &&
      k !== 'SITEMPI_JOB_KEY'
    )
      xs.push('-x', k);
  }
  const args = [...testbedArgs, ...xs, ...mpirunOpts, ...app];
  if (process.env.SITEMPI_CLI_DEBUG) process.stderr.write(`sitempi: ${mpirun} ${args.join(' ')}\n`);

  const progressOn = values['no-progress'] !== true && process.stderr.isTTY === true;
  const child = spawn(mpirun, args, {
    env,
    stdio: ['inherit', progressOn ? 'pipe' : 'inherit', progressOn ? 'pipe' : 'inherit'],
  });
  const progress = progressOn ? new Progress(monitor, jobId) : null;
  if (progress) {
    child.stdout!.on('data', (d: Buffer) => {
      progress.clear();
      process.stdout.write(d);
    });
    child.stderr!.on('data', (d: Buffer) => {
      progress.clear();
      process.stderr.write(d);
    });
  }
  const forward = (sig: NodeJS.Signals) => () => {
    try {
      child.kill(sig);
    } catch {
      /* gone */
    }
  };
  const handlers: Array<[NodeJS.Signals, () => void]> = (['SIGINT', 'SIGTERM', 'SIGHUP'] as NodeJS.Signals[]).map(
    (s) => [s, forward(s)],
  );
  for (const [s, h] of handlers) process.on(s, h);
  let code: number;
  try {
    code = await new Promise<number>((resolve, reject) => {
      child.once('error', (e: NodeJS.ErrnoException) =>
        reject(e.code === 'ENOENT' ? new Error(`${mpirun} not found (install Open MPI, or pass --mpirun)`) : e),
      );
      child.once('close', (c, sig) => resolve(c ?? (sig ? 128 + (os.constants.signals[sig] ?? 0) : 1)));
    });
  } catch (e) {
    progress?.stop();
    await dashboard?.close();
    await monitor.close();
    await recorder?.close();
    dropTraceTmp();
    await svc?.close();
    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
    throw e;
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
  }
  // The ranks are gone: collect what is still in flight, then end the jobs.
  const deadline = Date.now() + waitMs;
  while (
    Date.now() < deadline &&
    (monitor.connectionCount > 0 || monitor.jobs().some((j) => j.ranksFinished < j.ranksSeen))
  ) {
    await new Promise((r) => setTimeout(r, 20));
  }
  progress?.stop();
  await dashboard?.close();
  const jobs = await monitor.close();
  await recorder?.close();
  await svc?.close();
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
  const mine = jobs.filter((j) => j.id === jobId);
  if (mine.length === 0)
    process.stderr.write(
      'sitempi: no rank reported to the monitor (not an MPI program? SITEMPI_DISABLE set? the shim failed to load?)\n',
    );
  for (const j of mine) await j.prepare();
  const text = await render(mine, json, ro, svc);
  if (reportFile && reportFile !== '-') writeReportFile(reportFile, text, reportMode);
  else process.stdout.write(text);
  for (const j of mine) history?.record(j, svc);
  history?.close();
  if (trace && recorder) {
    const files = recorder.recordings().flatMap((r) => (r.job === jobId ? r.files : []));
    try {
      if (files.length) await writeTraceFile(files, trace);
      else log(`no trace written: no rank of job ${jobId} reported`);
    } catch (e) {
      log(`writing the trace ${trace.out} failed: ${(e as Error).message}`);
      if (code === 0) code = 1;
    } finally {
      dropTraceTmp();
    }
  }
  return code;
}
