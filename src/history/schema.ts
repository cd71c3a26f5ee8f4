// The history database's schema: ordered migrations, each one step from version N to N + 1,
// recorded in PRAGMA user_version. A database is migrated on open, each step in its own
// transaction (a step that fails leaves the database at the version before it).
import type Database from 'better-sqlite3';

/** 'SMPH' in PRAGMA application_id: a database sitempi made (refuses other SQLite files). */
export const APPLICATION_ID = 0x534d5048;

export interface Migration {
  /** the version the database has after this step */
  version: number;
  what: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    what: 'jobs, per-function table, coarsened matrix, placements, relocations',
    sql: `
      CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        job_id TEXT NOT NULL,
        name TEXT NOT NULL,
        program TEXT NOT NULL,
        size INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        ended_at INTEGER NOT NULL,
        end_reason TEXT,
        records INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        messages INTEGER NOT NULL,
        mpi_seconds REAL NOT NULL,
        wall_seconds REAL NOT NULL,
        mpi_fraction REAL NOT NULL,
        verdict TEXT NOT NULL,
        rules TEXT NOT NULL,
        classification TEXT NOT NULL,
        block_ranks INTEGER NOT NULL,
        blocks INTEGER NOT NULL,
        function_rows INTEGER NOT NULL,
        matrix_cells INTEGER NOT NULL,
        placement_rows INTEGER NOT NULL,
        relocation_rows INTEGER NOT NULL
      );
      CREATE INDEX jobs_by_name ON jobs (name, ended_at);
      CREATE TABLE functions (
        job INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        calls INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        time_ns INTEGER NOT NULL,
        PRIMARY KEY (job, name)
      ) WITHOUT ROWID;
      -- the coarsened matrix's non-zero blocks, packed: cells x (src, dst, bytes, messages) as float64
      -- little-endian (one blob: a 64 x 64 matrix as 4096 rows takes ten times as long to write)
      CREATE TABLE matrices (
        job INTEGER PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
        cells INTEGER NOT NULL,
        data BLOB NOT NULL
      );
      CREATE TABLE placements (
        job INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        epoch INTEGER NOT NULL,
        map TEXT NOT NULL,
        source TEXT NOT NULL,
        reason TEXT NOT NULL,
        at INTEGER NOT NULL,
        job_seconds REAL NOT NULL,
        PRIMARY KEY (job, epoch)
      ) WITHOUT ROWID;
      CREATE TABLE relocations (
        job INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        trigger TEXT NOT NULL,
        reason TEXT NOT NULL,
        ok INTEGER NOT NULL,
        error TEXT,
        executor TEXT NOT NULL,
        from_map TEXT,
        target_map TEXT NOT NULL,
        reached_map TEXT,
        epoch_before INTEGER NOT NULL,
        epoch_after INTEGER NOT NULL,
        at INTEGER NOT NULL,
        executor_ms REAL NOT NULL,
        cost_seconds REAL NOT NULL,
        gain_seconds REAL NOT NULL,
        numbers TEXT NOT NULL,
        PRIMARY KEY (job, seq)
      ) WITHOUT ROWID;`,
  },
  {
    version: 2,
    what: 'jobs.start_verdict: the verdict from history that the first placement used (null: none)',
    sql: `ALTER TABLE jobs ADD COLUMN start_verdict TEXT;
      ALTER TABLE jobs ADD COLUMN start_verdict_job TEXT;`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/**
 * Brings `db` to version `upTo` (default: the latest). Throws for a database of another
 * application, or one newer than this sitempi knows.
 */
export function migrate(db: Database.Database, upTo = SCHEMA_VERSION): number {
  const appId = db.pragma('application_id', { simple: true }) as number;
  let version = db.pragma('user_version', { simple: true }) as number;
  if (appId !== APPLICATION_ID) {
    const tables = db.prepare(`SELECT count(*) AS n FROM sqlite_master`).get() as { n: number };
    if (appId !== 0 || version !== 0 || tables.n > 0) throw new Error('not a sitempi history database');
  }
  if (version > SCHEMA_VERSION)
    throw new Error(`the history database has schema version ${version}; this sitempi knows up to ${SCHEMA_VERSION}`);
  for (const m of MIGRATIONS) {
    if (m.version <= version || m.version > upTo) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
    version = m.version;
  }
  return version;
}
