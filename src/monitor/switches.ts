// Placement switches of one job: when each communicator started using a placement epoch, from the
// ranks' switch marks (Role.Placement records), at most a limit of them.

/** When a communicator started using a placement epoch (the shim's agreement, docs/relocation-shim.md). */
export interface PlacementSwitch {
  /** index into JobProfile.comms, or -1 when the communicator was not announced */
  comm: number;
  epoch: number;
  /** the communicator's covered collective call from which the epoch is in force (0: its first) */
  call: number;
  /** earliest rank's time of the switch, seconds since its MPI_Init (the job's clock, as wallNs) */
  jobSeconds: number;
  /** ranks that reported it */
  ranks: number;
}

export class SwitchMarks {
  /** placement switches by "comm:epoch" */
  private readonly switchMarks = new Map<string, PlacementSwitch>();

  /** `max`: distinct switches kept (JobLimits.maxPlacementSwitches). */
  constructor(private readonly max: number) {}

  /**
   * One rank's mark: communicator index `ci` (-1: not announced) uses `epoch` from its collective
   * call `call`, at startNs of that rank. False when it is a new switch past the limit (ignored).
   */
  add(ci: number, epoch: number, call: number, startNs: number): boolean {
    const key = `${ci}:${epoch}`;
    const jobSeconds = startNs / 1e9;
    const s = this.switchMarks.get(key);
    if (!s && this.switchMarks.size >= this.max) return false;
    if (!s) this.switchMarks.set(key, { comm: ci, epoch, call, jobSeconds, ranks: 1 });
    else {
      s.ranks++;
      s.jobSeconds = Math.min(s.jobSeconds, jobSeconds);
    }
    return true;
  }

  /** The switches, by communicator then epoch. */
  list(): PlacementSwitch[] {
    return [...this.switchMarks.values()].sort((a, b) => a.comm - b.comm || a.epoch - b.epoch);
  }
}
