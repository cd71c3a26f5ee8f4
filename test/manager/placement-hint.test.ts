// The manager's placement hint from the job history: a real history database file (better-sqlite3)
// with runs of several job names; the hint is the verdict of the last run of the same name.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HistoryStore } from '../../src/history/store.js';
import { Cluster } from '../../src/manager/cluster.js';
import { choosePlacement, placementHint } from '../../src/manager/placement.js';
import { run } from './history-entry.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('placement hint from the history', () => {
  it("answers the verdict of the name's last run, null for a name never run", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smhint-'));
    dirs.push(dir);
    const file = path.join(dir, 'history.db');
    const w = HistoryStore.open(file);
    w.write(run('cg', 'cg-1', 'compute-intensive', 1_000_000));
    w.write(run('cg', 'cg-2', 'network-intensive', 2_000_000)); // the later run decides
    w.write(run('ep', 'ep-1', 'network-intensive', 1_000_000));
    w.write(run('ep', 'ep-2', 'compute-intensive', 3_000_000));
    w.close();

    // read back from the file, as the manager's service opens it
    const store = HistoryStore.open(file, { readonly: true });
    try {
      expect(placementHint('cg', store)).toBe('network');
      expect(placementHint('ep', store)).toBe('compute');
      expect(placementHint('lu', store)).toBeNull();
      expect(placementHint('cg')).toBeNull(); // no history: no hint
    } finally {
      store.close();
    }
    // a database that cannot be read gives no hint and no throw (the job still starts)
    expect(placementHint('cg', store)).toBeNull();
  });

  it('keeps a job whose last run was network-intensive waiting for one site', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smhint-'));
    dirs.push(dir);
    const store = HistoryStore.open(path.join(dir, 'history.db'));
    store.write(run('lu', 'lu-1', 'network-intensive', 1_000_000));
    store.write(run('ep', 'ep-1', 'compute-intensive', 1_000_000));
    const c = new Cluster({
      sites: ['A', 'B'],
      nodes: [
        ...['a0', 'a1', 'a2'].map((name) => ({ name, site: 'A', host: 'h', slots: 1 })),
        ...['b0', 'b1', 'b2'].map((name) => ({ name, site: 'B', host: 'h', slots: 1 })),
      ],
      links: [
        { from: 'A', to: 'B', latencyMs: 5, bandwidthBps: 0 },
        { from: 'B', to: 'A', latencyMs: 5, bandwidthBps: 0 },
      ],
    });
    c.allocate('x', [{ node: 'a0', slots: 1 }]);
    try {
      // A has 2 free, B 3: the network-intensive name gets B whole
      expect(choosePlacement(c, 3, placementHint('lu', store))!.every((s) => s.node.startsWith('b'))).toBe(true);
      c.allocate('y', [{ node: 'b0', slots: 1 }]);
      // now 2 + 2 free: the network-intensive name waits, the compute-intensive one spans
      expect(choosePlacement(c, 3, placementHint('lu', store))).toBeNull();
      expect(choosePlacement(c, 3, placementHint('ep', store))).toHaveLength(3);
      expect(choosePlacement(c, 3, placementHint('new-name', store))).toHaveLength(3);
    } finally {
      store.close();
    }
  });
});
