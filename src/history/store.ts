// The job history: a SQLite database (better-sqlite3) of ended jobs. WAL journal; each job is
// written in one transaction, so a monitor killed mid-write leaves the database as it was before
// that job (SQLite rolls the unfinished transaction back when the database is next opened).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Verdict } from '../monitor/classify.js';
import type { PastVerdict } from '../placement/events.js';
import type { HistoryEntry } from './entry.js';
import { migrate } from './schema.js';

/** Where `--history default` puts the database: $XDG_DATA_HOME/sitempi/history.db. */
export function defaultHistoryPath(): string {
  const base = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'sitempi', 'history.db');
}

/** One past job as `sitempi history` lists it (docs/history.md, "JSON"). */
export interface HistoryJob {
  jobId: string;
  name: string;
  program: string;
  size: number;
  startedAt: string;
  endedAt: string;
  endReason: string | null;
  wallSeconds: number;
  mpiSeconds: number;
  mpiFraction: number;
  records: number;
  bytes: number;
  messages: number;
  verdict: Verdict;
  rules: string[];
  classification: Record<string, number>;
  /** the verdict from history the first placement used (null: none, it was measured) */
  startVerdict: { verdict: string; fromJob: string | null } | null;
  placements: Array<{ epoch: number; map: string; source: string; reason: string; at: string; jobSeconds: number }>;
  relocations: Array<{
    trigger: string;
    ok: boolean;
    from: string | null;
    target: string;
    reached: string | null;
    epochBefore: number;
    epochAfter: number;
    at: string;
    executorMs: number;
    costSeconds: number;
    gainSeconds: number;
    reason: string;
  }>;
  functions?: Array<{ name: string; kind: string; calls: number; bytes: number; seconds: number }>;
  matrix?: { blockRanks: number; blocks: number; cells: Array<[number, number, number, number]> };
}

const iso = (ms: number) => new Date(ms).toISOString();

type Row = Record<string, unknown>;

export class HistoryStore {
  readonly db: Database.Database;

  private constructor(
    readonly file: string,
    readonly: boolean,
  ) {
    if (!readonly) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
    else if (!fs.existsSync(file)) throw new Error(`no history database at ${file}`);
    try {
      this.db = new Database(file, { fileMustExist: readonly, timeout: 250 });
    } catch (e) {
      throw new Error(`cannot open the history database ${file}: ${(e as Error).message}`);
    }
    try {
      this.db.pragma('foreign_keys = ON');
      if (!readonly) {
        this.db.pragma('journal_mode = WAL');
        this.db.pragma('synchronous = NORMAL');
      }
      migrate(this.db);
    } catch (e) {
      this.db.close();
      const m = (e as Error).message;
      throw new Error(`${file}: ${/not a database/.test(m) ? 'not a sitempi history database' : m}`);
    }
  }

  /** Opens (creating when absent, and migrating) the database at `file`. */
  static open(file: string, opts: { readonly?: boolean } = {}): HistoryStore {
    return new HistoryStore(file, opts.readonly ?? false);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Writes one job in one transaction; returns its row id and how long the write took (ms). */
  write(e: HistoryEntry): { row: number; ms: number } {
    const t0 = process.hrtime.bigint();
    const c = e.classification;
    const row = this.db
      .transaction(() => {
        // each column next to its value, so the two cannot drift apart
        const cols: Array<[string, string | number | null]> = [
          ['job_id', e.jobId],
          ['name', e.name],
          ['program', e.program],
          ['size', e.size],
          ['started_at', Math.round(e.startedAt)],
          ['ended_at', Math.round(e.endedAt)],
          ['end_reason', e.endReason],
          ['records', e.records],
          ['bytes', e.bytes],
          ['messages', e.messages],
          ['mpi_seconds', e.mpiSeconds],
          ['wall_seconds', e.wallSeconds],
          ['mpi_fraction', e.mpiFraction],
          ['verdict', c.verdict],
          ['rules', JSON.stringify(c.rules)],
          ['classification', JSON.stringify(c.numbers)],
          ['block_ranks', e.matrix.blockRanks],
          ['blocks', e.matrix.blocks],
          ['function_rows', e.functions.length],
          ['matrix_cells', e.matrix.cells.length],
          ['placement_rows', e.placements.length],
          ['relocation_rows', e.relocations.length],
          ['start_verdict', e.startVerdict?.verdict ?? null],
          ['start_verdict_job', e.startVerdict?.jobId ?? null],
        ];
        const r = this.db
          .prepare(`INSERT INTO jobs (${cols.map(([k]) => k).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`)
          .run(...cols.map(([, v]) => v));
        const id = Number(r.lastInsertRowid);
        const fn = this.db.prepare(
          'INSERT INTO functions (job, name, kind, calls, bytes, time_ns) VALUES (?, ?, ?, ?, ?, ?)',
        );
        for (const f of e.functions) fn.run(id, f.name, f.kind, f.calls, f.bytes, f.timeNs);
        this.db
          .prepare('INSERT INTO matrices (job, cells, data) VALUES (?, ?, ?)')
          .run(id, e.matrix.cells.length, packCells(e.matrix.cells));
        const pl = this.db.prepare(
          'INSERT INTO placements (job, epoch, map, source, reason, at, job_seconds) VALUES (?, ?, ?, ?, ?, ?, ?)',
        );
        for (const p of e.placements) pl.run(id, p.epoch, p.map, p.source, p.reason, Math.round(p.at), p.jobSeconds);
        const rl = this.db.prepare(
          `INSERT INTO relocations (job, seq, trigger, reason, ok, error, executor, from_map, target_map, reached_map,
             epoch_before, epoch_after, at, executor_ms, cost_seconds, gain_seconds, numbers)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        );
        e.relocations.forEach((x, i) =>
          rl.run(
            id,
            i,
            x.trigger,
            x.reason,
            x.ok ? 1 : 0,
            x.error,
            x.executor,
            x.from,
            x.target,
            x.reached,
            x.epochBefore,
            x.epochAfter,
            Math.round(x.at),
            x.executorMs,
            x.costSeconds,
            x.gainSeconds,
            JSON.stringify(x.numbers, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)),
          ),
        );
        return id;
      })
      .immediate();
    return { row, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
  }

  /** The verdict of the latest run named `name` (null: no run of that name). */
  pastVerdict(name: string): PastVerdict | null {
    const r = this.db
      .prepare(
        `SELECT verdict, job_id, ended_at, (SELECT count(*) FROM jobs WHERE name = ?) AS runs
         FROM jobs WHERE name = ? ORDER BY ended_at DESC, id DESC LIMIT 1`,
      )
      .get(name, name) as Row | undefined;
    if (!r) return null;
    return {
      name,
      verdict: r.verdict as Verdict,
      jobId: r.job_id as string,
      endedAt: r.ended_at as number,
      runs: r.runs as number,
    };
  }

  /** Past jobs, newest first (all, or the runs of one name, or one job id). */
  list(opts: { name?: string; limit?: number; full?: boolean } = {}): HistoryJob[] {
    const where = opts.name !== undefined ? 'WHERE name = ? OR job_id = ?' : '';
    const args: unknown[] = opts.name !== undefined ? [opts.name, opts.name] : [];
    const rows = this.db
      .prepare(`SELECT * FROM jobs ${where} ORDER BY ended_at DESC, id DESC LIMIT ?`)
      .all(...args, Math.max(0, Math.floor(opts.limit ?? 1000))) as Row[];
    const placements = this.db.prepare('SELECT * FROM placements WHERE job = ? ORDER BY epoch');
    const relocations = this.db.prepare('SELECT * FROM relocations WHERE job = ? ORDER BY seq');
    return rows.map((r) => {
      const j: HistoryJob = {
        jobId: r.job_id as string,
        name: r.name as string,
        program: r.program as string,
        size: r.size as number,
        startedAt: iso(r.started_at as number),
        endedAt: iso(r.ended_at as number),
        endReason: r.end_reason as string | null,
        wallSeconds: r.wall_seconds as number,
        mpiSeconds: r.mpi_seconds as number,
        mpiFraction: r.mpi_fraction as number,
        records: r.records as number,
        bytes: r.bytes as number,
        messages: r.messages as number,
        verdict: r.verdict as Verdict,
        rules: JSON.parse(r.rules as string) as string[],
        classification: JSON.parse(r.classification as string) as Record<string, number>,
        startVerdict: r.start_verdict
          ? { verdict: r.start_verdict as string, fromJob: r.start_verdict_job as string | null }
          : null,
        placements: (placements.all(r.id) as Row[]).map((p) => ({
          epoch: p.epoch as number,
          map: p.map as string,
          source: p.source as string,
          reason: p.reason as string,
          at: iso(p.at as number),
          jobSeconds: p.job_seconds as number,
        })),
        relocations: (relocations.all(r.id) as Row[]).map((x) => ({
          trigger: x.trigger as string,
          ok: x.ok === 1,
          from: x.from_map as string | null,
          target: x.target_map as string,
          reached: x.reached_map as string | null,
          epochBefore: x.epoch_before as number,
          epochAfter: x.epoch_after as number,
          at: iso(x.at as number),
          executorMs: x.executor_ms as number,
          costSeconds: x.cost_seconds as number,
          gainSeconds: x.gain_seconds as number,
          reason: x.reason as string,
        })),
      };
      if (opts.full) {
        j.functions = (
          this.db.prepare('SELECT * FROM functions WHERE job = ? ORDER BY time_ns DESC').all(r.id) as Row[]
        ).map((f) => ({
          name: f.name as string,
          kind: f.kind as string,
          calls: f.calls as number,
          bytes: f.bytes as number,
          seconds: (f.time_ns as number) / 1e9,
        }));
        const m = this.db.prepare('SELECT data FROM matrices WHERE job = ?').get(r.id) as { data: Buffer } | undefined;
        j.matrix = {
          blockRanks: r.block_ranks as number,
          blocks: r.blocks as number,
          cells: m ? unpackCells(m.data) : [],
        };
      }
      return j;
    });
  }
}

/** The matrices.data blob: cells x (src, dst, bytes, messages), float64 little-endian. */
export function packCells(cells: HistoryEntry['matrix']['cells']): Buffer {
  const b = Buffer.alloc(cells.length * 32);
  cells.forEach((c, i) => {
    b.writeDoubleLE(c.src, i * 32);
    b.writeDoubleLE(c.dst, i * 32 + 8);
    b.writeDoubleLE(c.bytes, i * 32 + 16);
    b.writeDoubleLE(c.messages, i * 32 + 24);
  });
  return b;
}

export function unpackCells(b: Buffer): Array<[number, number, number, number]> {
  const out: Array<[number, number, number, number]> = [];
  for (let o = 0; o + 32 <= b.length; o += 32)
    out.push([b.readDoubleLE(o), b.readDoubleLE(o + 8), b.readDoubleLE(o + 16), b.readDoubleLE(o + 24)]);
  return out;
}
