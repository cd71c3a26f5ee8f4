// sitempi monitor: the monitor service, a report for each job that ends.
import { parseNumber, parseSize, takeOptions, UsageError } from './args.js';
import { dashboardFromOptions, HTTP_OPTS } from '../dashboard/cli.js';
import { PLACEMENT_OPTS } from '../placement/cli.js';
import { placementService, render, replayBytesOption, REPORT_OPTS, reportOptions } from './common.js';
import { RECORD_OPTS, recordMaxBytes, startRecording } from './record-options.js';
import { makeReportDir, parseReportMode, writeNewReport } from './report-file.js';
import { tokenFromOptions } from './secrets.js';
import { USAGE } from './usage.js';

export async function monitorCommand(argv: string[]): Promise<number> {
  const spec = {
    '--listen': 'list',
    '--token': 'value',
    '--token-file': 'value',
    '--report-mode': 'value',
    '--json': 'flag',
    '--linger': 'value',
    '--hello-timeout': 'value',
    '--max-ranks': 'value',
    '--report-dir': 'value',
    '--quiet': 'flag',
    '--join-window': 'value',
    '--require-job-key': 'flag',
    '--history': 'value',
    '--replay-total': 'value',
    '-h': 'flag',
    '--help': 'flag',
    ...REPORT_OPTS,
    ...PLACEMENT_OPTS,
    ...HTTP_OPTS,
    ...RECORD_OPTS,
  } as const;
  const { values, rest } = takeOptions(argv, spec, { stopAtUnknown: false });
  if (values.help || values.h) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
  const { Monitor } = await import('../monitor/monitor.js');
  const ro = reportOptions(values);
  const json = values.json === true;
  const quiet = values.quiet === true;
  const reportDir = typeof values['report-dir'] === 'string' ? values['report-dir'] : undefined;
  const reportMode = parseReportMode(values['report-mode']);
  if (reportDir) makeReportDir(reportDir);
  const recordDir = typeof values['record-dir'] === 'string' ? values['record-dir'] : undefined;
  const recordMax = recordMaxBytes(values);
  if (recordMax !== undefined && !recordDir) throw new UsageError('--record-max-bytes needs --record-dir DIR');
  const token = tokenFromOptions(values, (m) => process.stderr.write(`sitempi monitor: warning: ${m}\n`));
  const monitor = new Monitor({
    token: token || undefined,
    replayBytes: replayBytesOption(values),
    replayTotalBytes: typeof values['replay-total'] === 'string' ? parseSize(values['replay-total']) : undefined,
    lingerMs: typeof values.linger === 'string' ? parseNumber(values.linger, '--linger') : undefined,
    helloTimeoutMs:
      typeof values['hello-timeout'] === 'string' ? parseNumber(values['hello-timeout'], '--hello-timeout') : undefined,
    maxRanks: typeof values['max-ranks'] === 'string' ? parseNumber(values['max-ranks'], '--max-ranks') : undefined,
    joinWindowMs:
      typeof values['join-window'] === 'string' ? parseNumber(values['join-window'], '--join-window') : undefined,
    requireJobKey: values['require-job-key'] === true,
  });
  const log = (m: string) => {
    if (!quiet) process.stderr.write(`sitempi monitor: ${m}\n`);
  };
  // better-sqlite3 (a native module) is loaded only when a history is asked for
  const history =
    typeof values.history === 'string'
      ? (await import('../history/recorder.js')).historyFromOptions(values, ro.classify, log)
      : null;
  const recorder = recordDir ? await startRecording(monitor, recordDir, recordMax, log, 'sitempi monitor') : null;
  const svc = await placementService(monitor, values, ro, log);
  history?.attach(svc);
  const dashboard = await dashboardFromOptions(values, {
    monitor,
    placement: svc,
    token,
    classify: ro.classify,
    log,
    history: history && { list: () => history.store.list({ limit: 200 }) },
  });
  monitor.on('error', (e) => log(`error: ${e.message}`));
  monitor.on('connectionError', (ev) =>
    log(`rejected ${ev.remote}${ev.job ? ` (job ${ev.job} rank ${ev.rank})` : ''}: ${ev.error.message}`),
  );
  monitor.on('jobStart', (job) => log(`job ${job.id} started (${job.size} ranks)`));
  monitor.on('jobEnd', (job) => {
    void (async () => {
      log(`job ${job.id} ended (${job.endReason})`);
      await job.prepare(); // the collective expansion in slices: other clients go on meanwhile
      const out = await render([job], json, ro, svc); // in slices too
      process.stdout.write(out);
      if (reportDir) writeNewReport(reportDir, job.id, json ? out : await render([job], true, ro, svc), reportMode);
      history?.record(job, svc);
    })().catch((e: Error) => log(`report failed: ${e.message}`));
  });
  const listen = (values.listen as string[] | undefined) ?? ['tcp://127.0.0.1:7711'];
  const addrs = await monitor.listen(listen);
  log(`listening on ${addrs.join(', ')}${token ? '' : ' (no token: any client accepted)'}`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await dashboard?.close();
  await monitor.close();
  await recorder?.close();
  await svc?.close();
  history?.close();
  await new Promise((r) => setImmediate(r));
  return 0;
}
