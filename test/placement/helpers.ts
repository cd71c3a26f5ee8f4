// Fake ranks for placement tests: they speak through the shim's own encoder (the addon) and read
// what the monitor sends back with the shim's own decoder (addon.decodeEnvelope).
import { Role } from '../../src/generated/functions.js';
import { addon, batchFrame, fnCode, helloFrame, RankConnection, type Rec as AnyRec } from '../helpers/fake-rank.js';

export { addon, fnCode, sleep, until } from '../helpers/fake-rank.js';

export const SEND = fnCode('MPI_Send', Role.Send);

export interface Received {
  at: number;
  kind: string;
  epoch?: number;
  sites?: string[];
  siteOf?: number[];
  message?: string;
}

/** A record with its time: placement tests reason about time spent in MPI. */
export type Rec = AnyRec & { start: number; duration: number };

/**
 * Records of `seconds` of run (ns times) in which this rank sends `bytesPerSecond` to `peer`, in
 * 100 messages per second, spending `mpiFraction` of the time in MPI.
 */
export function traffic(peer: number, seconds: number, bytesPerSecond: number, mpiFraction: number, from = 0): Rec[] {
  const out: Rec[] = [];
  const n = Math.max(1, Math.round(seconds * 100));
  const step = 1e9 / 100;
  for (let i = 0; i < n; i++) {
    out.push({
      fn: SEND,
      peer,
      bytes: Math.round(bytesPerSecond / 100),
      start: from + i * step,
      duration: Math.round(step * mpiFraction),
    });
  }
  return out;
}

/** A rank connection that records what the monitor sends back, decoded by the shim's decoder. */
export class FakeRank extends RankConnection<Received> {
  helloAt = 0;
  seq = 0;

  constructor(
    address: string,
    readonly job: string,
    readonly rank: number,
    readonly size: number,
    readonly host = `h${rank}`,
  ) {
    super(address, (f) => ({ at: Date.now(), ...addon.decodeEnvelope(f) }));
  }

  async hello(): Promise<void> {
    this.helloAt = Date.now();
    await this.send(helloFrame(this.job, this.rank, this.size, '', this.host));
  }

  async records(recs: Rec[], epoch = this.latestEpoch()): Promise<void> {
    await this.send(batchFrame(this.seq++, recs, { epoch }));
  }

  async bye(endNs: number, records: number, mpiNs: number): Promise<void> {
    await this.send(addon.encodeBye({ endNs, records, dropped: 0, mpiNs }));
  }

  placements(): Received[] {
    return this.received.filter((r) => r.kind === 'placement');
  }

  latestEpoch(): number {
    const p = this.placements();
    return p.length ? p[p.length - 1].epoch! : 0;
  }
}
