// The order of a plan's moves that keeps every site within its slots at every moment
// (docs/planner.md, "Moves in order: no site over its slots"). Pure and generic over what moves: the
// manager's node migrations (relocate-moves.ts orderSteps), the simulator's flows of VMs between
// sites (sim/simulator.ts), and the planner's weighing of a candidate's pause (planner-cost.ts).
//
// A job's items move together when the slots they need are free at their destinations; else one
// item that fits; when nothing fits, the items left are cycles between full sites, and one is
// stopped (stop-and-copy): it leaves its site first and holds no slots while its image crosses,
// the others move into its room, and it resumes on its destination as soon as that has room.

export interface StageItem {
  /** the job that moves; null: a free node (it holds no slots) */
  job: string | null;
  from: string;
  to: string;
  /** slots it takes from `from` to `to` */
  slots: number;
}

export interface Staged<T> {
  items: T[];
  /** absent: the items move; 'suspend': the one item stops and leaves; 'resume': it arrives */
  stage?: 'suspend' | 'resume';
}

/**
 * Steps in order. `held`: slots held on each site now; `capacity`: each site's slots. The item
 * stopped is one of a job in `suspendFirst` (the jobs moved to make room: a compute-intensive job
 * pauses at less cost than the network-intensive job it makes room for), the fewest slots first.
 */
export function stageMoves<T extends StageItem>(
  held: ReadonlyMap<string, number>,
  capacity: ReadonlyMap<string, number>,
  items: readonly T[],
  suspendFirst: ReadonlySet<string> = new Set(),
): Staged<T>[] {
  const h = new Map(held);
  const has = (s: string) => h.get(s) ?? 0;
  const fits = (ms: readonly T[]) => {
    const inflow = new Map<string, number>();
    for (const m of ms) inflow.set(m.to, (inflow.get(m.to) ?? 0) + m.slots);
    return [...inflow].every(([s, k]) => k === 0 || has(s) + k <= (capacity.get(s) ?? 0));
  };
  const leave = (m: T) => h.set(m.from, has(m.from) - m.slots);
  const arrive = (m: T) => h.set(m.to, has(m.to) + m.slots);
  const byJob = new Map<string, T[]>();
  for (const m of items) if (m.job !== null) byJob.set(m.job, [...(byJob.get(m.job) ?? []), m]);
  let left = items.filter((m) => m.job !== null).length;
  const take = (ms: readonly T[]) => {
    for (const m of ms) {
      const rest = byJob.get(m.job!)!.filter((x) => x !== m);
      if (rest.length) byJob.set(m.job!, rest);
      else byJob.delete(m.job!);
      left--;
    }
  };
  const stopped: T[] = [];
  const steps: Staged<T>[] = [];
  while (left > 0 || stopped.length > 0) {
    const back = stopped.findIndex((m) => fits([m]));
    if (back >= 0) {
      const m = stopped.splice(back, 1)[0];
      arrive(m);
      steps.push({ items: [m], stage: 'resume' });
      continue;
    }
    if (left === 0) break; // cannot happen: a stopped item's destination was left by another
    let chosen: T[] | null = null;
    for (const ms of byJob.values())
      if (fits(ms)) {
        chosen = ms;
        break;
      }
    if (!chosen)
      for (const ms of byJob.values()) {
        const one = ms.find((m) => fits([m]));
        if (one) {
          chosen = [one];
          break;
        }
      }
    if (chosen) {
      for (const m of chosen) {
        leave(m);
        arrive(m);
      }
      steps.push({ items: chosen });
    } else {
      const m = [...byJob.values()]
        .flat()
        .sort((a, b) => Number(suspendFirst.has(b.job!)) - Number(suspendFirst.has(a.job!)) || a.slots - b.slots)[0];
      leave(m);
      stopped.push(m);
      chosen = [m];
      steps.push({ items: [m], stage: 'suspend' });
    }
    take(chosen);
  }
  // Not reached when the final placements fit (a stopped item's destination is left by another of
  // its cycle); whoever runs the steps checks each again.
  for (const m of stopped) steps.push({ items: [m], stage: 'resume' });
  for (const m of items) if (m.job === null) steps.push({ items: [m] });
  return steps;
}

/**
 * How long each stopped item's job pauses: from its stop to its resume, the moves in between (they
 * make its room; the longest of them, as they run together) and its own stop-and-copy.
 */
export function pauses<T extends StageItem>(
  steps: readonly Staged<T>[],
  seconds: (m: T, stopped: boolean) => number,
): Map<T, number> {
  const out = new Map<T, number>();
  for (let i = 0; i < steps.length; i++) {
    if (steps[i].stage !== 'suspend') continue;
    const m = steps[i].items[0];
    let wait = 0;
    for (let j = i + 1; j < steps.length; j++) {
      const s = steps[j];
      if (s.stage === 'resume' && s.items[0] === m) break;
      if (!s.stage) for (const x of s.items) wait = Math.max(wait, seconds(x, false));
    }
    out.set(m, wait + seconds(m, true));
  }
  return out;
}
