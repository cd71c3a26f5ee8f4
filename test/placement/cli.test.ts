// `sitempi run` with placement options: a real MPI program under the shim, the policy relocating it
// through a command hook, and the placement timeline in the JSON report.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseMpirunArgs } from '../../src/mpi/toolchain.js';
import { nativeBuildDir } from '../../src/native/paths.js';
import { runCli, tempDirs } from '../helpers/cli.js';

const tmp = tempDirs('sitempi-placement-cli-');

describe('sitempi run with placement options', () => {
  it('--sites + --executor-command: epoch 1 from the map, the policy relocates through the hook, the report has the timeline', async () => {
    const dir = tmp();
    const hook = path.join(dir, 'hook.cjs');
    fs.writeFileSync(
      hook,
      `let s = ''; process.stdin.on('data', (d) => { s += d; }); process.stdin.on('end', () => {
  require('fs').writeFileSync(${JSON.stringify(path.join(dir, 'input.json'))}, s);
  const req = JSON.parse(s); console.log(JSON.stringify(req.target)); });\n`,
    );
    const reportFile = path.join(dir, 'r.json');
    const r = await runCli([
      'run',
      '--json',
      '--report',
      reportFile,
      '--no-progress',
      '--sites',
      'A:0;B:1',
      '--executor-command',
      `node ${hook}`,
      '--threshold',
      '100',
      '--min-observe',
      '0.2',
      '--evaluate-every',
      '0.2',
      '--vm-memory',
      '64MiB',
      '--no-gain-check',
      '-np',
      '2',
      ...baseMpirunArgs,
      '--',
      path.join(nativeBuildDir, 'sitempi-demo'),
      '20000',
      '100000',
    ]);
    expect(r.code, r.err).toBe(0);
    const rep = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
    const p = rep.jobs[0].placement;
    expect(p.timeline.map((t: { epoch: number; map: string; source: string }) => [t.epoch, t.map, t.source])).toEqual([
      [1, 'A:0;B:1', 'config'],
      [2, 'A:0,1', 'relocation'],
    ]);
    expect(p.current).toEqual({ epoch: 2, map: 'A:0,1' });
    expect(p.relocations).toHaveLength(1);
    expect(p.relocations[0]).toMatchObject({
      trigger: 'policy',
      ok: true,
      executor: 'command',
      from: 'A:0;B:1',
      target: 'A:0,1',
      reached: 'A:0,1',
      epochAfter: 2,
    });
    expect(p.relocations[0].numbers.classification.verdict).toBe('network-intensive');
    expect(p.relocations[0].numbers.crossBytesBefore).toBeGreaterThan(0);
    expect(p.decisions[0]).toMatchObject({ action: 'relocate', verdict: 'network-intensive' });
    const input = JSON.parse(fs.readFileSync(path.join(dir, 'input.json'), 'utf8'));
    expect(input).toMatchObject({
      action: 'relocate',
      job: { size: 2 },
      current: { sites: ['A', 'B'], siteOf: [0, 1] },
      target: { siteOf: [0, 0] },
    });
    expect(input.job.hosts).toEqual([os.hostname(), os.hostname()]);
    expect(r.err).toMatch(/placement epoch 2 A:0,1 \[relocation\] policy: network-intensive/);
  }, 90_000);

  it('refuses bad placement options with a usage error', async () => {
    let r = await runCli(['run', '--relocate', 'auto', '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--relocate auto needs an executor/);
    r = await runCli(['run', '--sites', 'A:0-1;A:2', '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--sites: site 'A' is named twice/);
    r = await runCli(['run', '--testbed', '--executor-command', 'x', '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/exclude each other/);
    r = await runCli(['run', '--testbed-state', path.join(tmp(), 'none'), '--', 'true']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no testbed is up/);
  });
});
