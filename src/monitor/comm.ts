// Communicators as the monitor knows them (from the ranks' CommDefs).

/** A communicator known to the job (from CommDef). */
export interface CommInfo {
  index: number;
  globalId: bigint;
  /** world ranks in communicator order */
  members: Uint32Array;
  /** remote group (intercommunicators), or null */
  remoteMembers: Uint32Array | null;
  /** world rank -> communicator rank */
  rankOf: Map<number, number>;
}
