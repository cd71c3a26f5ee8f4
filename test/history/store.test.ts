// The history database: migrations from version 1, refusals of files that are not ours, and a
// writer SIGKILLed mid-write leaving a whole database.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, MIGRATIONS, SCHEMA_VERSION } from '../../src/history/schema.js';
import { HistoryStore } from '../../src/history/store.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'smhist-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('history schema', () => {
  it('migrates a version 1 database (written by the first step) to the latest, keeping its jobs', () => {
    const file = path.join(tmp(), 'v1.db');
    const db = new Database(file);
    expect(migrate(db, MIGRATIONS[0].version)).toBe(1);
    const job = db
      .prepare(
        `INSERT INTO jobs (job_id, name, program, size, started_at, ended_at, end_reason, records, bytes, messages,
           mpi_seconds, wall_seconds, mpi_fraction, verdict, rules, classification, block_ranks, blocks,
           function_rows, matrix_cells, placement_rows, relocation_rows)
         VALUES ('j1', 'cg', '/x/cg', 4, 1000, 3000, 'complete', 10, 400, 4, 1, 2, 0.5, 'network-intensive',
           '["rate"]', '{"crossBytes":200}', 1, 4, 0, 1, 1, 0)`,
      )
      .run().lastInsertRowid;
    db.prepare('INSERT INTO matrices (job, cells, data) VALUES (?, 1, ?)').run(
      job,
      Buffer.from(new Float64Array([0, 1, 400, 4]).buffer),
    );
    db.prepare(
      "INSERT INTO placements (job, epoch, map, source, reason, at, job_seconds) VALUES (?, 1, 'A:0-1;B:2-3', 'config', 'r', 1500, 0.1)",
    ).run(job);
    db.close();

    const store = HistoryStore.open(file);
    try {
      expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(SCHEMA_VERSION).toBeGreaterThan(1);
      const [j] = store.list({ name: 'cg', full: true });
      expect(j).toMatchObject({ jobId: 'j1', verdict: 'network-intensive', rules: ['rate'], startVerdict: null });
      expect(j.placements.map((p) => p.map)).toEqual(['A:0-1;B:2-3']);
      expect(j.matrix!.cells).toEqual([[0, 1, 400, 4]]);
      expect(store.pastVerdict('cg')).toMatchObject({ verdict: 'network-intensive', jobId: 'j1', runs: 1 });
      expect(store.pastVerdict('other')).toBeNull();
    } finally {
      store.close();
    }
  });

  it('refuses files that are not a sitempi history, and a newer schema', () => {
    const d = tmp();
    const text = path.join(d, 'text.db');
    fs.writeFileSync(text, 'hello, this is not SQLite at all '.repeat(40));
    expect(() => HistoryStore.open(text)).toThrow(/not a sitempi history database/);
    expect(fs.readFileSync(text, 'utf8')).toMatch(/^hello/); // left as it was
    const other = path.join(d, 'other.db');
    const o = new Database(other);
    o.exec('CREATE TABLE t (x)');
    o.close();
    expect(() => HistoryStore.open(other)).toThrow(/not a sitempi history database/);
    const newer = path.join(d, 'newer.db');
    HistoryStore.open(newer).close();
    const n = new Database(newer);
    n.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    n.close();
    expect(() => HistoryStore.open(newer)).toThrow(/schema version .* this sitempi knows up to/);
    expect(() => HistoryStore.open(path.join(d, 'absent.db'), { readonly: true })).toThrow(/no history database/);
  });
});

describe('history crash safety', () => {
  it('a writer SIGKILLed mid-write leaves a database that passes integrity_check, every job whole', async () => {
    const file = path.join(tmp(), 'killed.db');
    const child = spawn(path.join(root, 'node_modules/.bin/vite-node'), [path.join(here, 'writer-child.ts'), file], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.once('data', () => resolve());
        child.once('exit', (c) => reject(new Error(`writer exited (${c})`)));
      });
      // let it write for a while, then kill it at a moment it does not choose
      await new Promise((r) => setTimeout(r, 700 + Math.random() * 300));
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((r) => child.once('exit', r));
    const store = HistoryStore.open(file, { readonly: true });
    try {
      expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
      const jobs = store.db
        .prepare(
          `SELECT id, function_rows, matrix_cells, placement_rows,
             (SELECT count(*) FROM functions WHERE job = jobs.id) AS f,
             (SELECT length(data) / 32 FROM matrices WHERE job = jobs.id) AS m,
             (SELECT count(*) FROM placements WHERE job = jobs.id) AS p
           FROM jobs`,
        )
        .all() as Array<Record<string, number>>;
      expect(jobs.length).toBeGreaterThan(1);
      for (const j of jobs) {
        expect([j.f, j.m, j.p]).toEqual([j.function_rows, j.matrix_cells, j.placement_rows]);
        expect(j.m).toBe(4096);
      }
      // no rows of a job that was never committed
      const orphans = store.db
        .prepare('SELECT count(*) AS n FROM matrices WHERE job NOT IN (SELECT id FROM jobs)')
        .get() as { n: number };
      expect(orphans.n).toBe(0);
      // list() pages at 1000 by default; a fast machine commits more before the kill
      expect(store.list({ name: 'killed', limit: jobs.length + 1 }).length).toBe(jobs.length);
    } finally {
      store.close();
    }
  }, 60_000);
});
