// Writing a job's report into a directory without ever losing one: a report is created
// exclusively (never over an existing file, never through a planted link), and a second report
// with the same job id gets the next free name (<job>.1.json, <job>.2.json, ...).
import fs from 'node:fs';
import path from 'node:path';

/** Most reports kept under one job id (past it the write fails with a clear error). */
const MAX_SAME_ID = 10_000;

/** Writes `text` as a new report of `jobId` in `dir` (mode 0600); returns the path written. */
export function writeReportFile(dir: string, jobId: string, text: string, mode = 0o600): string {
  const safe = jobId.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_') || '_';
  const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0);
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
      fs.writeSync(fd, text);
    } finally {
      fs.closeSync(fd);
    }
    return file;
  }
  throw new Error(`${MAX_SAME_ID} reports of job ${jobId} already in ${dir}`);
}
