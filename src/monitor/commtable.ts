// The communicators of one job, from its ranks' CommDefs (each distinct communicator once, each
// rank's local ids mapped to it), within the job's limits on communicators.
import type { CommDef } from '../wire/messages.js';
import type { CommInfo } from './comm.js';
import { ProtocolError, type JobLimits } from './limits.js';
import type { RankState } from './rank.js';

export class CommTable {
  readonly comms: CommInfo[] = [];
  /** Communicators by a short key (global id, sizes, hash of the members): a list, since two
   * communicators may share a key; members are compared in full. */
  private readonly commKeys = new Map<string, number[]>();
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
    if (!r.localComm.has(c.localId) && this.commRefs >= this.limits.maxCommRefs)
      throw new ProtocolError(`more than ${this.limits.maxCommRefs} communicators in job ${this.id} (maxCommRefs)`);
    // Every rank of a job sends the world communicator: a key of its members in full would cost
    // size^2 characters over the job's ranks. The key hashes a sample of them; sameMembers then
    // compares them all, once.
    const key = `${c.globalId}:${c.members.length}:${c.remoteMembers.length}:${hash(c.members)}:${hash(c.remoteMembers)}`;
    const same = this.commKeys.get(key) ?? [];
    let index = same.find((i) => sameMembers(this.comms[i], c));
    if (index === undefined) {
      // a communicator already known has valid members; a new one is checked
      for (const w of c.members) if (w >= P) throw new ProtocolError(`CommDef member ${w} out of range for size ${P}`);
      for (const w of c.remoteMembers)
        if (w >= P) throw new ProtocolError(`CommDef member ${w} out of range for size ${P}`);
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
      this.commKeys.set(key, [...same, index]);
    }
    if (!r.localComm.has(c.localId)) this.commRefs++;
    r.localComm.set(c.localId, index);
  }
}

/** Hash of about 64 members spread over the list. */
function hash(members: readonly number[]): number {
  let h = 0x811c9dc5;
  const step = Math.max(1, Math.floor(members.length / 64));
  for (let i = 0; i < members.length; i += step) h = Math.imul(h ^ members[i], 0x01000193);
  return h >>> 0;
}

function sameMembers(info: CommInfo, c: CommDef): boolean {
  const a = info.members,
    b = c.members;
  if (a.length !== b.length || (info.remoteMembers?.length ?? 0) !== c.remoteMembers.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  const ra = info.remoteMembers;
  for (let i = 0; i < c.remoteMembers.length; i++) if (ra![i] !== c.remoteMembers[i]) return false;
  return true;
}
