// The first pass over the files: per rank its host, clock origin, number of calls and time range
// (to size the second pass), and the placement marks, which are few and kept whole.
import { PlacementMark } from '../generated/facts.js';
import { ROLE_SHIFT, Role } from '../generated/functions.js';
import { callStart, FN_MASK, isCall, visitRecords, type ReadOptions } from './read.js';

export interface RankScan {
  rank: number;
  host: string;
  /** CLOCK_REALTIME at the rank's MPI_Init, ns since 1970 (records are ns since then) */
  startNs: bigint;
  calls: number;
  /** earliest and latest call start, ns on the rank's clock */
  firstNs: number;
  lastStartNs: number;
}

/** A placement marker record (docs/relocation-shim.md): a communicator switched to, or saw, an epoch. */
export interface PlacementMarkRecord {
  rank: number;
  kind: 'switch' | 'seen';
  epoch: number;
  /** job communicator index (-1: not announced) */
  comm: number;
  /** covered collective call index on the communicator */
  call: number;
  /** world rank that supplied the map (-1: none) */
  supplier: number;
  /** function of the call the mark belongs to */
  fn: number;
  /** ns on the rank's clock */
  ns: number;
}

export interface JobScan {
  id: string;
  size: number;
  program: string;
  ranks: Map<number, RankScan>;
  marks: PlacementMarkRecord[];
  /** marks left out past the limit */
  marksOverLimit: number;
  /** the site of each rank by epoch, from the placements the ranks say they used */
  sitesByEpoch: Map<number, number[]>;
}

export interface Scan {
  jobs: JobScan[];
  calls: number;
}

/** Scans the files; keeps at most `maxMarks` placement marks in all. */
export async function scanFiles(paths: string[], maxMarks: number, opts: ReadOptions = {}): Promise<Scan> {
  const jobs: JobScan[] = [];
  let marks = 0,
    calls = 0;
  const jobAt = (i: number, id: string, size: number): JobScan => {
    while (jobs.length <= i)
      jobs.push({ id, size, program: '', ranks: new Map(), marks: [], marksOverLimit: 0, sitesByEpoch: new Map() });
    return jobs[i];
  };
  const rankOf = (j: JobScan, rank: number): RankScan => {
    let r = j.ranks.get(rank);
    if (!r) {
      r = { rank, host: '', startNs: 0n, calls: 0, firstNs: Infinity, lastStartNs: -Infinity };
      j.ranks.set(rank, r);
    }
    return r;
  };
  const profiles = await visitRecords(
    paths,
    {
      hello(ji, p, h) {
        const r = rankOf(jobAt(ji, p.id, p.size), h.rank);
        r.host = h.host;
        r.startNs = h.startNs;
      },
      batch(ji, p, rs, b) {
        const j = jobAt(ji, p.id, p.size);
        const r = rankOf(j, rs.rank);
        const { fn, start } = b;
        for (let i = 0; i < b.n; i++) {
          const code = fn[i];
          if (isCall(code)) {
            r.calls++;
            calls++;
            const s = callStart(code, start[i], b.duration[i]);
            if (s < r.firstNs) r.firstNs = s;
            if (s > r.lastStartNs) r.lastStartNs = s;
          } else if (code >>> ROLE_SHIFT === Role.Placement) {
            const alg = b.alg[i];
            if (alg !== PlacementMark.Switch && alg !== PlacementMark.Seen) continue;
            if (marks >= maxMarks) {
              j.marksOverLimit++;
              continue;
            }
            marks++;
            j.marks.push({
              rank: rs.rank,
              kind: alg === PlacementMark.Switch ? 'switch' : 'seen',
              epoch: b.bytes[i],
              comm: rs.localComm.get(b.comm[i]) ?? -1,
              call: b.crossBytes[i],
              supplier: b.peer[i],
              fn: code & FN_MASK,
              ns: start[i],
            });
          }
        }
      },
      placement(ji, pl) {
        const j = jobs[ji];
        if (j && j.size === pl.siteOf.length && !j.sitesByEpoch.has(pl.epoch)) j.sitesByEpoch.set(pl.epoch, pl.siteOf);
      },
    },
    opts,
  );
  profiles.forEach((p, i) => (jobAt(i, p.id, p.size).program = p.program));
  return { jobs, calls };
}
