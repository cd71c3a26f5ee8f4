// Running the sitempi CLI from tests: main() in this process with its output captured, or the CLI
// from its sources in a process of its own (test/cli/run-cli.ts); and temporary directories.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { until } from './fake-rank.js';

export interface Captured {
  out: string;
  err: string;
}

/** Captures what this process writes to stdout and stderr (until vi.restoreAllMocks()). */
export function captureOutput(): Captured {
  const c: Captured = { out: '', err: '' };
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    c.out += String(s);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    c.err += String(s);
    return true;
  });
  return c;
}

/** main(argv) in this process, stdout and stderr captured. */
export async function runCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const c = captureOutput();
  try {
    const code = await main(argv);
    return { code, out: c.out, err: c.err };
  } finally {
    vi.restoreAllMocks();
  }
}

/** The JSON on the last line of a command's output (`--json` prints its report last). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function lastJson(out: string): any {
  return JSON.parse(out.trim().split('\n').pop()!);
}

/** `sitempi ARGV` from the sources in a process of its own, with `env` over this process's. */
export function cliProcess(
  argv: string[],
  env: NodeJS.ProcessEnv = {},
  stdio: StdioOptions = ['ignore', 'pipe', 'pipe'],
): ChildProcess {
  return spawn(process.execPath, ['node_modules/vite-node/vite-node.mjs', 'test/cli/run-cli.ts'], {
    env: { ...process.env, ...env, SITEMPI_TEST_ARGV: JSON.stringify(argv) },
    stdio,
  });
}

/** Makes fresh temporary directories named `prefix`...; each test's are removed after it. */
export function tempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}

export interface TcpMonitor {
  child: ChildProcess;
  /** where ranks connect (tcp://...) */
  addr: string;
  /** its stderr so far */
  err: () => string;
}

/**
 * `sitempi monitor --listen tcp://127.0.0.1:0 ARGS` in a process of its own, without a token unless
 * `env` gives one; resolves once it listens (else kills it and throws, with what it said).
 */
export async function tcpMonitorProcess(args: string[], env: NodeJS.ProcessEnv = {}): Promise<TcpMonitor> {
  const child = cliProcess(['monitor', '--listen', 'tcp://127.0.0.1:0', ...args], { SITEMPI_TOKEN: '', ...env });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += String(d)));
  child.stdout!.resume();
  await until(() => /listening on tcp:\/\//.test(err) || child.exitCode !== null, 90_000, 'the monitor').catch(
    () => undefined,
  );
  const addr = /listening on (tcp:\/\/[^\s,]+)/.exec(err)?.[1];
  if (!addr) {
    child.kill('SIGKILL');
    throw new Error(`the monitor did not start: ${err}`);
  }
  return { child, addr, err: () => err };
}
