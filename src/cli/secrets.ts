// Where the CLI takes the monitor's token from. A command line is readable by every user of the
// host (/proc/PID/cmdline, ps): the token comes from a file (--token-file) or the environment
// (SITEMPI_TOKEN); --token still works, with a warning.
import { constants as fsc } from 'node:fs';
import fs from 'node:fs';
import { UsageError } from './args.js';

/** A token file holds one line; anything larger is not a token file. */
const MAX_TOKEN_FILE_BYTES = 4096;

type Values = Record<string, string | boolean | string[]>;

/** The token of --token-file, --token or $SITEMPI_TOKEN (in that order; undefined: none given). */
export function tokenFromOptions(v: Values, warn: (m: string) => void): string | undefined {
  const file = typeof v['token-file'] === 'string' ? v['token-file'] : undefined;
  const arg = typeof v.token === 'string' ? v.token : undefined;
  if (file !== undefined && arg !== undefined) throw new UsageError('--token and --token-file exclude each other');
  if (file !== undefined) return readTokenFile(file, warn);
  if (arg !== undefined) {
    warn(
      '--token puts the token on the command line, where every user of this host can read it: use --token-file or SITEMPI_TOKEN',
    );
    if (!arg) throw new UsageError('--token needs a non-empty value');
    return arg;
  }
  return process.env.SITEMPI_TOKEN || undefined;
}

/** The first line of a regular file of at most 4 KiB (trailing blanks dropped); warns when others may read it. */
export function readTokenFile(file: string, warn: (m: string) => void): string {
  let fd: number;
  try {
    fd = fs.openSync(file, fsc.O_RDONLY | fsc.O_NONBLOCK | fsc.O_NOCTTY);
  } catch (e) {
    throw new UsageError(`--token-file: ${(e as Error).message}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new UsageError(`--token-file: ${file} is not a regular file`);
    if (st.size > MAX_TOKEN_FILE_BYTES)
      throw new UsageError(`--token-file: ${file} has ${st.size} bytes, a token file at most ${MAX_TOKEN_FILE_BYTES}`);
    if (st.mode & 0o077)
      warn(`--token-file: ${file} can be read by other users (mode ${(st.mode & 0o777).toString(8)}; chmod 600 it)`);
    const buf = Buffer.alloc(MAX_TOKEN_FILE_BYTES);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    const token = buf.subarray(0, n).toString('utf8').split('\n')[0].trimEnd();
    if (!token) throw new UsageError(`--token-file: ${file} holds no token`);
    return token;
  } finally {
    fs.closeSync(fd);
  }
}
