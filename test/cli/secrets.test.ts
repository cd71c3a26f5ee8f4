// Secrets and files (issue 12 item 11): the token never on a command line (a real mpirun job scans
// every /proc/PID/cmdline for it), taken from a file or the environment, --token with a warning,
// and reports written 0600 without following a planted link.
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeReportFile } from '../../src/cli/report-file.js';
import { readTokenFile } from '../../src/cli/secrets.js';
import { runCli, tcpMonitorProcess, tempDirs } from '../helpers/cli.js';
import { addon, FakeRank, helloFrame, until } from '../monitor/helpers.js';

const tmp = tempDirs('smsecret-');
const kill: Array<() => void> = [];
afterEach(() => {
  for (const k of kill.splice(0)) k();
});

describe('sitempi run hands the token to the ranks without argv', () => {
  it('no process of the job shows the token on its command line; the ranks have it; the report is 0600', async () => {
    const dir = tmp();
    const token = `tok-${crypto.randomBytes(12).toString('hex')}`;
    const tokenFile = path.join(dir, 'token');
    fs.writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    // the "rank": writes the token it got, then counts the command lines (of every process) holding it
    const scan = path.join(dir, 'scan.sh');
    fs.writeFileSync(
      scan,
      `#!/bin/sh
printf %s "$SITEMPI_TOKEN" > ${dir}/seen
n=0
for f in /proc/[0-9]*/cmdline; do
  if (tr '\\000' ' ' < "$f") 2>/dev/null | grep -q -F -f ${dir}/seen; then n=$((n+1)); echo "$f" >> ${dir}/hits; fi
done
echo $n > ${dir}/count
`,
      { mode: 0o755 },
    );
    const reportFile = path.join(dir, 'report.txt');
    // a control: one process that does show the token (the scan must find exactly that one)
    const control = spawn('/bin/sh', ['-c', 'sleep 60; :', `control-${token}`], { stdio: 'ignore' });
    kill.push(() => control.kill('SIGKILL'));
    const { code, err } = await runCli([
      'run',
      '--listen',
      'tcp://127.0.0.1:0',
      '--token-file',
      tokenFile,
      '--report',
      reportFile,
      '--no-progress',
      '--wait',
      '200',
      '-np',
      '1',
      '--',
      '/bin/sh',
      scan,
    ]);
    expect(code, err).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'seen'), 'utf8')).toBe(token);
    const hits = fs.existsSync(path.join(dir, 'hits')) ? fs.readFileSync(path.join(dir, 'hits'), 'utf8') : '';
    expect(hits.trim()).toBe(`/proc/${control.pid}/cmdline`);
    expect(fs.readFileSync(path.join(dir, 'count'), 'utf8').trim(), hits).toBe('1');
    expect(err).not.toMatch(/warning: --token/);
    expect(fs.statSync(reportFile).mode & 0o777).toBe(0o600);
  }, 60_000);
});

/** `sitempi monitor ARGS` in a process of its own; resolves once it listens, with its address and command line. */
async function monitorProcess(args: string[], env: NodeJS.ProcessEnv = {}) {
  const m = await tcpMonitorProcess(args, env);
  kill.push(() => m.child.kill('SIGKILL'));
  const exited = new Promise<number | null>((res) =>
    m.child.exitCode !== null ? res(m.child.exitCode) : m.child.on('exit', (c) => res(c)),
  );
  const cmdline = fs.readFileSync(`/proc/${m.child.pid}/cmdline`, 'utf8');
  return { ...m, cmdline, exited };
}

/** A one-rank job presenting `token`: whether the monitor took it (else the Error it sent). */
async function tryToken(addr: string, token: string, job: string): Promise<string> {
  const r = new FakeRank(addr);
  await r.send(helloFrame(job, 0, 1, token), addon.encodeBye({ endNs: 1000, records: 0, dropped: 0, mpiNs: 0 }));
  await until(() => r.closed || r.received.length > 0, 10_000).catch(() => undefined);
  await r.end();
  return r.errors().join('; ') || 'accepted';
}

describe('sitempi monitor takes its token from a file or the environment', () => {
  it('--token-file: the token works, is not on the command line, and reports are written 0600', async () => {
    const dir = tmp();
    const token = `tok-${crypto.randomBytes(12).toString('hex')}`;
    fs.writeFileSync(path.join(dir, 'token'), `${token}\n`, { mode: 0o600 });
    const reports = path.join(dir, 'reports');
    const m = await monitorProcess(['--token-file', path.join(dir, 'token'), '--report-dir', reports, '--json']);
    expect(m.cmdline).not.toContain(token);
    expect(await tryToken(m.addr, 'wrong', 'j-wrong')).toMatch(/bad token/);
    expect(await tryToken(m.addr, token, 'j-right')).toBe('accepted');
    await until(() => fs.existsSync(path.join(reports, 'j-right.json')), 10_000);
    expect(fs.statSync(path.join(reports, 'j-right.json')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(reports).mode & 0o777).toBe(0o700);
    expect(JSON.parse(fs.readFileSync(path.join(reports, 'j-right.json'), 'utf8')).jobs[0].id).toBe('j-right');
    expect(m.err()).not.toMatch(/warning/);
  }, 120_000);

  it('$SITEMPI_TOKEN works without a warning; --token works with one', async () => {
    const env = await monitorProcess([], { SITEMPI_TOKEN: 'from-env' });
    expect(await tryToken(env.addr, 'from-env', 'j-env')).toBe('accepted');
    expect(await tryToken(env.addr, 'other', 'j-env2')).toMatch(/bad token/);
    expect(env.err()).not.toMatch(/warning/);
    env.child.kill('SIGTERM');
    await env.exited;
    const arg = await monitorProcess(['--token', 'on-argv']);
    expect(arg.err()).toMatch(
      /warning: --token puts the token on the command line, where every user of this host can read it/,
    );
    expect(await tryToken(arg.addr, 'on-argv', 'j-arg')).toBe('accepted');
  }, 120_000);
});

describe('report files', () => {
  it('are created 0600 (or --report-mode), replacing a planted symlink instead of writing through it', () => {
    const dir = tmp();
    const victim = path.join(dir, 'victim');
    fs.writeFileSync(victim, 'precious\n');
    const file = path.join(dir, 'job.json');
    fs.symlinkSync(victim, file);
    writeReportFile(file, '{"jobs":[]}\n');
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(fs.lstatSync(file).isFile()).toBe(true);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    writeReportFile(file, 'again\n', 0o640);
    expect(fs.statSync(file).mode & 0o777).toBe(0o640);
    expect(fs.readdirSync(dir).sort()).toEqual(['job.json', 'victim']);
  });
});

describe('token files', () => {
  it('take the first line of a small regular file, warn when others may read it, refuse FIFOs and empty files at once', () => {
    const dir = tmp();
    const f = path.join(dir, 'token');
    fs.writeFileSync(f, 'abc \nignored\n', { mode: 0o600 });
    const warnings: string[] = [];
    expect(readTokenFile(f, (w) => warnings.push(w))).toBe('abc');
    expect(warnings).toEqual([]);
    fs.chmodSync(f, 0o644);
    readTokenFile(f, (w) => warnings.push(w));
    expect(warnings).toEqual([expect.stringMatching(/can be read by other users \(mode 644; chmod 600 it\)/)]);
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(() => readTokenFile(fifo, () => {})).toThrow(/is not a regular file/);
    fs.writeFileSync(f, '\n');
    expect(() => readTokenFile(f, () => {})).toThrow(/holds no token/);
    expect(() => readTokenFile('/dev/zero', () => {})).toThrow(/is not a regular file/);
  });
});
