// The communicators of one job, from its ranks' CommDefs (each distinct communicator once, each
// rank's local ids mapped to it), within the job's limits on communicators.
import type { CommDef } from '../wire/messages.js';
import type { CommInfo } from './comm.js';
import { ProtocolError, type JobLimits } from './limits.js';
import type { RankState } from './rank.js';

export class CommTable {
  readonly comms: CommInfo[] = [];
  /** Hash of (globalId, members, remoteMembers) -> indexes of the communicators with that hash.
   * A numeric hash, not a joined string: every rank defines MPI_COMM_WORLD, so a job of P ranks
   * would build P strings of P numbers (seconds of CPU at 16 384 ranks). */
  private readonly commKeys = new Map<number, number[]>();
  private commRefs = 0;
  private commMembers = 0;

  /** `id`, `size`: the job's; `limits`: its maxCommRefs and maxCommMembers apply. */
  constructor(
    private readonly id: string,
    private readonly size: number,
    private readonly limits: JobLimits,
  ) {}

  /** A CommDef of rank r. Throws ProtocolError for members out of range or past the job's limits. */
  commDef(r: RankState, c: CommDef): void {
    const P = this.size;
    if (c.members.length > P || c.remoteMembers.length > P)
      throw new ProtocolError(`CommDef with more members than the job's ${P} ranks`);
    for (const w of c.members) if (w >= P) throw new ProtocolError(`CommDef member ${w} out of range for size ${P}`);
    for (const w of c.remoteMembers)
      if (w >= P) throw new ProtocolError(`CommDef member ${w} out of range for size ${P}`);
    if (!r.localComm.has(c.localId) && this.commRefs >= this.limits.maxCommRefs)
      throw new ProtocolError(`more than ${this.limits.maxCommRefs} communicators in job ${this.id} (maxCommRefs)`);
    const key = commHash(c);
    let index = this.commKeys.get(key)?.find((i) => sameComm(this.comms[i], c));
    if (index === undefined) {
      const n = c.members.length + c.remoteMembers.length;
      if (this.commMembers + n > this.limits.maxCommMembers)
        throw new ProtocolError(
          `communicators of job ${this.id} hold more than ${this.limits.maxCommMembers} members (maxCommMembers)`,
        );
      this.commMembers += n;
      index = this.comms.length;
      const rankOf = new Map<number, number>();
      c.members.forEach((w, i) => {
        if (!rankOf.has(w)) rankOf.set(w, i);
      });
      this.comms.push({
        index,
        globalId: c.globalId,
        members: Uint32Array.from(c.members),
        remoteMembers: c.remoteMembers.length ? Uint32Array.from(c.remoteMembers) : null,
        rankOf,
      });
      const same = this.commKeys.get(key);
      if (same) same.push(index);
      else this.commKeys.set(key, [index]);
    }
    if (!r.localComm.has(c.localId)) this.commRefs++;
    r.localComm.set(c.localId, index);
  }
}

/** FNV-1a over the communicator's global id and member lists (a length separates the lists). */
function commHash(c: CommDef): number {
  let h = 0x811c9dc5;
  const mix = (v: number) => {
    h = Math.imul(h ^ (v & 0xffff), 0x01000193);
    h = Math.imul(h ^ (v >>> 16), 0x01000193);
  };
  mix(Number(c.globalId & 0xffffffffn));
  mix(Number((c.globalId >> 32n) & 0xffffffffn));
  mix(c.members.length);
  for (const w of c.members) mix(w);
  for (const w of c.remoteMembers) mix(w);
  return h >>> 0;
}

function sameComm(a: CommInfo, c: CommDef): boolean {
  if (a.globalId !== c.globalId || a.members.length !== c.members.length) return false;
  if ((a.remoteMembers?.length ?? 0) !== c.remoteMembers.length) return false;
  for (let i = 0; i < c.members.length; i++) if (a.members[i] !== c.members[i]) return false;
  for (let i = 0; i < c.remoteMembers.length; i++) if (a.remoteMembers![i] !== c.remoteMembers[i]) return false;
  return true;
}
