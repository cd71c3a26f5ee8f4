// Thin wrappers around the system: running `ip` and friends, preflight checks, processes.
import { execFile, spawnSync } from 'node:child_process';
import { constants as fsc, promises as fs, accessSync, existsSync, readFileSync } from 'node:fs';

export class TestbedError extends Error {}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a command without a shell; never throws for a non-zero exit (see `must`). */
export async function run(cmd: string, args: string[], input?: string): Promise<RunResult> {
  return await new Promise<RunResult>((resolve, reject) => {
    const child = execFile(cmd, args, { encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'ENOENT') {
          reject(new TestbedError(missingToolMessage(cmd)));
          return;
        }
        reject(new TestbedError(`${cmd}: ${e.message}`));
        return;
      }
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ stdout, stderr, code: typeof code === 'number' ? code : 1 });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

function missingToolMessage(cmd: string): string {
  if (cmd === 'ip') return 'iproute2 is missing: `ip` is not on PATH (apt-get install iproute2)';
  if (cmd === 'unshare') return '`unshare` (util-linux) is missing from PATH';
  return `${cmd} is not on PATH`;
}

/** Runs a command and throws a TestbedError with its stderr when it fails. */
export async function must(cmd: string, args: string[], input?: string): Promise<string> {
  const r = await run(cmd, args, input);
  if (r.code !== 0) {
    const msg = (r.stderr || r.stdout).trim();
    throw new TestbedError(`${cmd} ${args.join(' ')} failed (exit ${r.code}): ${msg}`);
  }
  return r.stdout;
}

export async function ip(...args: string[]): Promise<string> {
  return await must('ip', args);
}

/** `ip` that tolerates "does not exist" style failures (for idempotent teardown). */
export async function ipQuiet(...args: string[]): Promise<boolean> {
  const r = await run('ip', args);
  return r.code === 0;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Throws a clear error unless we are root on Linux with iproute2 and a TUN device. */
export function preflight(opts: { needTun?: boolean; needUnshare?: boolean } = {}): void {
  if (process.platform !== 'linux')
    throw new TestbedError('the sitempi testbed needs Linux (network namespaces and TUN)');
  if (!isRoot()) {
    throw new TestbedError(
      'the sitempi testbed must run as root (it creates network namespaces, TUN devices and /etc/hosts entries); try sudo',
    );
  }
  const r = spawnSync('ip', ['-V'], { encoding: 'utf8' });
  if (r.error) throw new TestbedError(missingToolMessage('ip'));
  if (opts.needTun !== false) {
    if (!existsSync('/dev/net/tun')) {
      throw new TestbedError(
        '/dev/net/tun is missing: load the tun module (modprobe tun) or create the node (mkdir -p /dev/net && mknod /dev/net/tun c 10 200)',
      );
    }
    try {
      accessSync('/dev/net/tun', fsc.R_OK | fsc.W_OK);
    } catch {
      throw new TestbedError('/dev/net/tun is not readable and writable');
    }
  }
  if (opts.needUnshare) {
    const u = spawnSync('unshare', ['--version'], { encoding: 'utf8' });
    if (u.error) throw new TestbedError(missingToolMessage('unshare'));
  }
}

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie is not alive for our purposes.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
  } catch {
    return false;
  }
  return true;
}

export async function cmdline(pid: number): Promise<string[]> {
  try {
    const raw = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((s) => s.length > 0);
  } catch {
    return [];
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, wait up to graceMs, then SIGKILL. Returns once the process is gone. */
export async function terminate(pid: number, graceMs = 3000): Promise<void> {
  if (!pidAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!pidAlive(pid)) return;
    await sleep(25);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  for (let i = 0; i < 100 && pidAlive(pid); i++) await sleep(20);
}

/** Writes a file atomically (write to a temporary name, then rename). */
export async function writeFileAtomic(path: string, data: string, mode = 0o644): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await fs.writeFile(tmp, data, { mode });
  await fs.chmod(tmp, mode);
  await fs.rename(tmp, path);
}
