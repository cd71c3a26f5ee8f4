// The communicators of one job, from its ranks' CommDefs (each distinct communicator once, each
// rank's local ids mapped to it), within the job's limits on communicators.
import type { CommDef } from '../wire/messages.js';
import type { CommInfo } from './comm.js';
import { ProtocolError, type JobLimits } from './limits.js';
import type { RankState } from './rank.js';

export class CommTable {
  readonly comms: CommInfo[] = [];
  private readonly commKeys = new Map<string, number>();
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
    const key = `${c.globalId}:${c.members.join(',')}|${c.remoteMembers.join(',')}`;
    let index = this.commKeys.get(key);
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
      this.commKeys.set(key, index);
    }
    if (!r.localComm.has(c.localId)) this.commRefs++;
    r.localComm.set(c.localId, index);
  }
}
