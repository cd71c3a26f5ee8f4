// sitempi as its users get it from npm: the packed tarball unpacked into a consumer's node_modules
// beside the packages its "dependencies" name (linked from this checkout: tests make no traffic
// beyond loopback, so npm does not fetch them), its install step run as npm runs it, then the
// monitor imported as a library by the consumer and a real MPI job preloaded with the shim that
// step built. Only what package.json ships and its dependencies are there.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/native/paths.js';
import { baseMpirunArgs, compileMpi, rootEnv, run, tempDir } from '../helpers/mpi.js';

const program = compileMpi('test/shim/programs/measure.c');
const P = 4;

describe('sitempi installed as a package', () => {
  const dir = tempDir('package');
  const app = path.join(dir, 'app');
  const installed = path.join(app, 'node_modules', 'sitempi');

  beforeAll(() => {
    // the tarball of `npm pack` (dist/ is this checkout's build: no prepack)
    const tgz = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], {
      cwd: packageRoot,
      encoding: 'utf8',
    }).trim();
    fs.mkdirSync(path.join(app, 'node_modules'), { recursive: true });
    fs.writeFileSync(path.join(app, 'package.json'), '{ "name": "consumer", "private": true, "type": "module" }\n');
    execFileSync('tar', ['xzf', path.join(dir, tgz), '-C', dir]);
    fs.renameSync(path.join(dir, 'package'), installed);
    const pkg = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      scripts: { install: string };
    };
    for (const dep of Object.keys(pkg.dependencies)) {
      fs.mkdirSync(path.dirname(path.join(app, 'node_modules', dep)), { recursive: true });
      fs.symlinkSync(path.join(packageRoot, 'node_modules', dep), path.join(app, 'node_modules', dep));
    }
    // npm runs the install script with the package as its working directory
    const r = spawnSync('sh', ['-c', pkg.scripts.install], { cwd: installed, encoding: 'utf8' });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  }, 600_000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('ships what runs and builds the shim and the addon at install, nothing of the checkout', () => {
    for (const f of ['libsitempi.so', 'sitempi.node', 'wanemu', 'sitempi-demo'])
      expect(fs.existsSync(path.join(installed, 'build', 'Release', f)), f).toBe(true);
    for (const f of ['test', 'bench/collectives', 'dist/test', 'dist/bench', '.ci'])
      expect(fs.existsSync(path.join(installed, f)), f).toBe(false);
    // a second install step finds the parts built and leaves them
    const before = fs.statSync(path.join(installed, 'build', 'Release', 'libsitempi.so')).mtimeMs;
    const again = spawnSync(process.execPath, ['native/install.mjs'], { cwd: installed, encoding: 'utf8' });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout + again.stderr).toBe('');
    expect(fs.statSync(path.join(installed, 'build', 'Release', 'libsitempi.so')).mtimeMs).toBe(before);
  });

  it("the consumer's monitor profiles an MPI job preloaded with the installed shim", async () => {
    const consumer = path.join(app, 'monitor.mjs');
    fs.writeFileSync(
      consumer,
      `import { spawnSync } from 'node:child_process';
import { Monitor } from 'sitempi';
const [program, lib, sock, ...mpirunArgs] = process.argv.slice(2);
const m = new Monitor();
const ended = new Promise((resolve) => m.on('jobEnd', resolve));
await m.listen('unix:' + sock);
const r = spawnSync('mpirun', [...mpirunArgs, '-np', '${P}', '-x', 'LD_PRELOAD=' + lib, '-x', 'SITEMPI_MONITOR=unix:' + sock, program], { encoding: 'utf8' });
if (r.status !== 0) throw new Error(r.stderr);
const job = await ended;
await m.close();
const send = job.functions().find((f) => f.name === 'MPI_Send');
console.log(JSON.stringify({ out: r.stdout, ranks: job.ranksFinished, send }));
`,
    );
    const lib = path.join(installed, 'build', 'Release', 'libsitempi.so');
    // ESM finds 'sitempi' from the script's own directory: the consumer's node_modules
    const r = await run('node', [consumer, program, lib, path.join(dir, 'monitor.sock'), ...baseMpirunArgs], 120_000);
    expect(r.code, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as {
      out: string;
      ranks: number;
      send: { count: number; bytes: number };
    };
    expect(o.out).toContain('measure ok');
    expect(o.ranks).toBe(P);
    expect(o.send).toMatchObject({ count: 2, bytes: 140 }); // rank 1's two sends to rank 0
  });

  it('the installed CLI runs a job under its own shim and prints the report', async () => {
    // nothing in the environment that would point the CLI at this checkout's build
    const { SITEMPI_LIB: _lib, SITEMPI_BUILD_DIR: _dir, ...env } = rootEnv();
    const r = await run(
      'node',
      [path.join(installed, 'bin', 'sitempi.js'), 'run', '--json', '-np', String(P), ...baseMpirunArgs, '--', program],
      120_000,
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.trimEnd().split('\n').pop() ?? '') as { jobs: { ranks: unknown[] }[] };
    expect(report.jobs[0].ranks).toHaveLength(P);
  });
});
