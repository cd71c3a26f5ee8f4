// Report files (sitempi run --report, sitempi monitor --report-dir): they hold program names, host
// names and traffic, so they are created 0600 unless --report-mode says otherwise. A report named
// by the user is written beside its name and renamed over it: readers never see half a report, and
// a symlink planted at the name is replaced, never followed. A report directory never loses a
// report: each is created exclusively, and a second report of one job id gets the next free name.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from './args.js';

export const DEFAULT_REPORT_MODE = 0o600;

/** --report-mode: octal permission bits ("600", "0640"), nothing beyond 0777. */
export function parseReportMode(v: string | boolean | string[] | undefined): number {
  if (typeof v !== 'string') return DEFAULT_REPORT_MODE;
  if (!/^0?[0-7]{3}$/.test(v))
    throw new UsageError(`--report-mode needs octal permissions such as 600 or 640, got ${v}`);
  return parseInt(v, 8);
}

/** Creates the report directory (0700 when it is created here). */
export function makeReportDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
}

export function writeReportFile(file: string, text: string, mode = DEFAULT_REPORT_MODE): void {
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`,
  );
  const fd = fs.openSync(
    tmp,
    fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW,
    mode,
  );
  try {
    fs.fchmodSync(fd, mode); // exactly the mode asked, whatever the umask
    fs.writeFileSync(fd, text);
    fs.closeSync(fd);
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.closeSync(fd);
    } catch {
      /* closed */
    }
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Most reports kept under one job id in a report directory (past it the write fails clearly). */
const MAX_SAME_ID = 10_000;

/** Writes `text` as a new report of `jobId` in `dir` (<job>.json, else <job>.1.json, ...), never
 * over an existing file or through a link; returns the path written. */
export function writeNewReport(dir: string, jobId: string, text: string, mode = DEFAULT_REPORT_MODE): string {
  const safe = jobId.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || '_';
  const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
  for (let n = 0; n < MAX_SAME_ID; n++) {
    const file = path.join(dir, n === 0 ? `${safe}.json` : `${safe}.${n}.json`);
    let fd: number;
    try {
      fd = fs.openSync(file, flags, mode);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw e;
    }
    try {
      fs.fchmodSync(fd, mode); // exactly the mode asked, whatever the umask
      fs.writeFileSync(fd, text);
    } finally {
      fs.closeSync(fd);
    }
    return file;
  }
  throw new Error(`${MAX_SAME_ID} reports of job ${jobId} already in ${dir}`);
}
