// Attack clients against the relocation path (issue 12 item 5): a fake job that holds the token
// makes up network-intensive traffic and names its hosts like shell commands. Only registered jobs
// may move, host names are checked before a hook runs, and hooks run without a shell.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Monitor } from '../../src/monitor/monitor.js';
import { placementFromOptions } from '../../src/placement/cli.js';
import { splitCommand } from '../../src/placement/command-executor.js';
import type { PolicyDecision } from '../../src/placement/policy.js';
import type { RelocationEvent } from '../../src/placement/service.js';
import { FakeRank, sleep, traffic, until } from './helpers.js';

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** `sitempi monitor --sites A:0;B:1 --executor-command 'node hook.cjs' --relocate auto`, hook logging its calls. */
async function monitorWithHook(register: (jobId: string) => boolean) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sitempi-registered-'));
  const hook = path.join(dir, 'hook.cjs');
  fs.writeFileSync(
    hook,
    `let s = ''; process.stdin.on('data', (d) => { s += d; }); process.stdin.on('end', () => {
  require('fs').appendFileSync(${JSON.stringify(path.join(dir, 'calls.log'))}, JSON.stringify({ argv: process.argv.slice(2), token: process.env.SITEMPI_TOKEN ?? null, req: JSON.parse(s) }) + '\\n');
  console.log(JSON.stringify(JSON.parse(s).target)); });\n`,
  );
  const m = new Monitor({ updateIntervalMs: 50 });
  // what Monitor.registerJob does for the launcher's jobs: mark them before anything is evaluated
  m.on('jobStart', (j) => {
    if (register(j.id)) j.registered = true;
  });
  const logs: string[] = [];
  const svc = await placementFromOptions(
    m,
    {
      sites: 'A:0;B:1',
      'executor-command': `node ${hook} 'arg with $HOME'`,
      relocate: 'auto',
      'min-observe': '0.2',
      'evaluate-every': '0.05',
      'no-gain-check': true,
    },
    { thresholdBytesPerSecond: 100 },
    (l) => logs.push(l),
  );
  const relocations: RelocationEvent[] = [];
  const decisions: PolicyDecision[] = [];
  svc.on('relocation', (e) => relocations.push(e));
  svc.on('decision', (d) => decisions.push(d));
  const [addr] = await m.listen('tcp://127.0.0.1:0');
  const ranks: FakeRank[] = [];
  cleanup.push(async () => {
    for (const f of ranks) if (!f.closed) f.socket.destroy();
    await m.close();
    await svc.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  /** Two ranks of `job` on the given hosts, sending each other 20 MB/s for 1 s. */
  const job = async (id: string, hosts: [string, string]) => {
    const r = [0, 1].map((i) => {
      const f = new FakeRank(addr, id, i, 2, hosts[i]);
      ranks.push(f);
      return f;
    });
    for (const x of r) await x.hello();
    await until(() => r.every((x) => x.placements().length === 1), 2000, 'first placement');
    for (let k = 0; k < 3; k++) {
      for (const x of r) await x.records(traffic(1 - x.rank, 0.5, 20e6, 0.8, k * 0.5e9));
      await sleep(60);
    }
    return r;
  };
  const calls = () => {
    const f = path.join(dir, 'calls.log');
    return fs.existsSync(f)
      ? fs
          .readFileSync(f, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l))
      : [];
  };
  return { job, calls, relocations, decisions, logs, svc };
}

describe('relocations only for registered jobs, with valid host names, without a shell', () => {
  it('a job nobody registered never runs the hook, whatever traffic it makes up', async () => {
    const t = await monitorWithHook(() => false);
    const r = await t.job('fake', ['host-a`id`', 'host-b;reboot']);
    await until(() => t.decisions.length > 0, 3000, 'a decision');
    await sleep(400); // several evaluation periods
    expect(t.decisions).toHaveLength(1);
    expect(t.decisions[0]).toMatchObject({
      jobId: 'fake',
      action: 'skip',
      summary: expect.stringMatching(/not registered/),
    });
    expect(t.relocations).toEqual([]);
    expect(t.calls()).toEqual([]);
    expect(r.map((x) => x.placements().map((p) => p.epoch))).toEqual([[1], [1]]);
    expect(t.logs.join('\n')).toMatch(/job fake: not registered/);
  });

  it('a registered job whose ranks name hosts like commands is not moved, the hook never runs', async () => {
    const t = await monitorWithHook(() => true);
    const r = await t.job('named', ['host-a`id`', 'host-b;reboot']);
    await until(() => t.decisions.length > 0, 3000, 'a decision');
    await sleep(300);
    expect(t.decisions).toHaveLength(1);
    expect(t.decisions[0]).toMatchObject({
      action: 'skip',
      summary: expect.stringMatching(/rank 0 names its host "host-a`id`", not a valid host name/),
    });
    expect(t.relocations).toEqual([]);
    // an operator's own call fails the same way, before the hook
    const ev = await t.svc.relocate('named', 'A:0-1', 'by hand');
    expect(ev).toMatchObject({ trigger: 'api', ok: false, epochAfter: 1 });
    expect(ev.error).toMatch(/rank 0 names its host "host-a`id`"/);
    expect(t.calls()).toEqual([]);
    expect(r.map((x) => x.placements().length)).toEqual([1, 1]);
  });

  it('a registered job on valid hosts moves through the hook, which gets its words as argv and no token', async () => {
    const saved = process.env.SITEMPI_TOKEN;
    process.env.SITEMPI_TOKEN = 'secret-of-the-monitor';
    cleanup.push(() => {
      if (saved === undefined) delete process.env.SITEMPI_TOKEN;
      else process.env.SITEMPI_TOKEN = saved;
    });
    const t = await monitorWithHook((id) => id === 'real');
    const r = await t.job('real', ['node-a1.example', 'node-b1']);
    await until(() => t.relocations.length === 1, 3000, 'a relocation');
    expect(t.relocations[0]).toMatchObject({ trigger: 'policy', ok: true, epochAfter: 2, reached: { siteOf: [0, 0] } });
    await until(() => r.every((x) => x.placements().length === 2), 2000, 'epoch 2');
    const calls = t.calls();
    expect(calls).toHaveLength(1);
    expect(calls[0].argv).toEqual(['arg with $HOME']);
    expect(calls[0].token).toBeNull();
    expect(calls[0].req.job.hosts).toEqual(['node-a1.example', 'node-b1']);
  });

  it('splits command lines like a shell would, and refuses what only a shell could do', () => {
    expect(splitCommand(`node  "a b" 'c $d' e\\ f`)).toEqual(['node', 'a b', 'c $d', 'e f']);
    expect(splitCommand(`x ''`)).toEqual(['x', '']);
    for (const bad of [
      'hook; reboot',
      'hook | tee x',
      'hook $(id)',
      'hook `id`',
      'hook > /etc/x',
      'a & b',
      "hook 'open",
    ]) {
      expect(() => splitCommand(bad), bad).toThrow(/needs? a shell|would need a shell|unterminated/);
    }
  });
});
