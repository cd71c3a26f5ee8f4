// The manager's event log: one JSON object per line (cluster, submit, start with its nodes, end,
// cancel, stale, fresh; the planner's plan, its steps: moves, stopped VMs, skipped steps; relocated
// jobs and free nodes), appended as it happens, so that slot usage (and where each node is) can be
// replayed at any moment.
import fs from 'node:fs';

export type ManagerEvent =
  | { type: 'cluster'; nodes: { name: string; site: string; slots: number }[] }
  | { type: 'submit'; job: string; name: string; np: number }
  | { type: 'start'; job: string; nodes: { node: string; site: string; slots: number }[] }
  | { type: 'end'; job: string; exitCode: number | null; signal: string | null; state: string }
  | { type: 'cancel'; job: string; was: string }
  | { type: 'timeout'; job: string; limitSeconds: number }
  | { type: 'stale'; node: string }
  | { type: 'fresh'; node: string }
  | {
      type: 'plan';
      reason: string;
      plannerMs: number;
      sites: string[];
      decisions: Record<string, unknown>[];
      moves: { job: string; from: number[]; to: number[]; mode: string }[];
    }
  /**
   * A step of a plan, before it runs: the nodes that migrate (job null: a free node), one after the
   * other; stage 'resume': a stopped VM starts on `to` (to = from: where it was).
   */
  | {
      type: 'move';
      step: number;
      stage?: 'suspend' | 'resume';
      nodes: { node: string; from: string; to: string; job: string | null }[];
    }
  /** A VM stopped for stop-and-copy: its slots leave `from`; it is on no site until its 'move' resumes it. */
  | { type: 'suspend'; step: number; node: string; from: string; to: string; job: string | null }
  /** A step that no longer fits when its turn comes (an earlier one failed): not run. */
  | { type: 'skipped'; step: number; nodes: { node: string; from: string; to: string; job: string | null }[] }
  /** After a job's relocation: where its nodes are now (a node still stopped is left out). */
  | {
      type: 'relocated';
      job: string;
      ok: boolean;
      error: string | null;
      epoch: number;
      nodes: { node: string; site: string; slots: number }[];
      ms: number;
    }
  | { type: 'freeNode'; node: string; site: string };

export class EventLog {
  private fd: number | null;

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'a', 0o600);
  }

  write(ev: ManagerEvent): void {
    if (this.fd === null) return;
    fs.writeSync(this.fd, JSON.stringify({ t: Date.now(), ...ev }) + '\n');
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

export function readEventLog(file: string): (ManagerEvent & { t: number })[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ManagerEvent & { t: number });
}
