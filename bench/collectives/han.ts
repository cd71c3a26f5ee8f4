// Which of the benchmark's collectives Open MPI's coll/han implements. HAN installs a function
// only for some collectives and leaves the others to the next component (tuned): for those a
// timed HAN job would sample Open MPI's default a second time, and the faster of two samples of
// one algorithm is not a baseline (the same reason HAN is not timed where it gives up).
import type { CollName } from './bounds.js';

/** Read from HAN's function table (ompi/mca/coll/han/coll_han_module.c, han_module_construct's
 *  coll_* pointers) at each release tag: 4.1.0 has no Barrier; 4.1.1 to 5.0.x add it; none of
 *  4.1.x and 5.0.x has Alltoall or Reduce_scatter(_block). Later releases (HAN's Alltoall came
 *  after 5.0) and earlier ones are not in the table: there HAN is timed at every collective. */
const HAN_4_1_0: readonly CollName[] = ['bcast', 'reduce', 'allreduce', 'gather', 'allgather'];
const HAN_4_1_1_TO_5_0: readonly CollName[] = ['barrier', ...HAN_4_1_0];

/** The benchmark's collectives that HAN of this Open MPI implements (`version`: a line such as
 *  "mpirun (Open MPI) 4.1.4"), or null where the release is not in the table. */
export function hanCollectives(version: string): ReadonlySet<CollName> | null {
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!m) return null;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (major === 4 && minor === 1) return new Set(patch === 0 ? HAN_4_1_0 : HAN_4_1_1_TO_5_0);
  if (major === 5 && minor === 0) return new Set(HAN_4_1_1_TO_5_0);
  return null;
}

/** The collectives of `colls` that HAN's job times: all of them without the rule (`--no-han-probe`)
 *  or where the release is not in the table, else those HAN implements. */
export function hanTimedColls(colls: readonly CollName[], version: string, rule: boolean): CollName[] {
  const own = rule ? hanCollectives(version) : null;
  return own ? colls.filter((c) => own.has(c)) : [...colls];
}

/** The collectives of `colls` that HAN's job leaves out (those hanTimedColls does not time). */
export function hanUntimedColls(colls: readonly CollName[], version: string, rule: boolean): CollName[] {
  const timed = hanTimedColls(colls, version, rule);
  return colls.filter((c) => !timed.includes(c));
}
