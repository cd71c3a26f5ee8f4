// The numbers behind a relocation: what moving VMs costs and what it saves.
//
// Sato, Sato and Matsuoka (a cost model of Remote I/O vs Migration-then-Local I/O on virtual
// clusters; docs/references.md) compare two ways of moving a VM:
//
//  - stop-and-copy: suspend, copy the whole memory M, resume. Moves exactly M; the VM is down for
//    the whole copy:           downtime = transfer time = M / B  (+ one RTT to resume)
//  - live (pre-copy): copy M while the VM runs, then re-copy the pages dirtied meanwhile, round
//    after round, until little is left; then suspend, copy the rest, resume. Round i copies what
//    was dirtied during round i-1: x_0 = M, x_i = min(M, D * x_{i-1} / B) (D = dirty rate), a
//    geometric series of ratio r = D / B. It stops (as Xen's does) when the remainder is at most
//    `stopBytes`, after `maxRounds` rounds, or once it has sent `maxFactor` * M; the remainder is
//    then copied with the VM down:
//                              transfer = sum of x_i,  downtime = x_last / B (+ one RTT)
//    Its downtime is short but its transfer grows with the dirty rate and never converges when
//    D >= B; the seed found live migration better for BLAST (low dirty rate) at every RTT, and
//    expects stop-and-copy to win for high dirty rates. We compute both and pick the cheaper.
//
// The seed also points out that the migration stream shares the WAN link with the application's
// own remote traffic. So the cost of a relocation, in seconds of job time, is
//
//    cost = downtime + (migration time - downtime) * linkShare
//
// where linkShare = min(1, crossBytesPerSecond / B) is the fraction of the link the job itself
// uses: while the VMs' memory crosses, the job's crossing traffic gets about half the link.
// n VMs move one after the other, each with the whole link (as a site's tools do): transfers,
// migration times and downtimes add up (the job stalls while any of its VMs is down).
//
// The gain: per second of run, the job's time on the WAN is about crossBytesPerSecond / B (the
// link is busy that fraction of the time) plus crossMessagesPerSecond / P * latency (each rank
// waits one latency per crossing message it takes part in), at most its fraction of time in MPI.
// A relocation saves the difference between the current placement and the target over the
// remaining run, which we do not know: `horizonSeconds`, by default as long again as the job has
// run so far. Relocate when gain >= costFactor * cost.
export interface CostModelOptions {
  /** Memory of one VM (node), bytes. Default 1 GiB (the largest VM of Sato et al.). */
  vmMemoryBytes?: number;
  /** Pages the application dirties per second, bytes/s. Default 32 MiB/s. */
  dirtyBytesPerSecond?: number;
  /** Live migration stops pre-copying when at most this much is dirty. Default 50 pages of 4 KiB (Xen). */
  stopBytes?: number;
  /** Live migration rounds at most. Default 30 (Xen). */
  maxRounds?: number;
  /** Live migration stops once it has sent this many times M. Default 3 (Xen). */
  maxFactor?: number;
  /** Bandwidth of the WAN link the VMs cross, bits/s. Default 1e9 (the testbed's default). */
  bandwidthBps?: number;
  /** One-way latency between the sites, seconds. Default 0.005 (10 ms RTT). */
  latencySeconds?: number;
  /** 'live', 'stop' or 'auto' (the cheaper of the two). Default 'auto'. */
  mode?: 'live' | 'stop' | 'auto';
  /** Remaining run time assumed by the gain estimate, seconds. Default: the job's wall time so far. */
  horizonSeconds?: number;
  /** Relocate when gain >= costFactor * cost. Default 1. */
  costFactor?: number;
}

export interface MigrationEstimate {
  mode: 'live' | 'stop';
  /** VMs (nodes) that move */
  vms: number;
  vmMemoryBytes: number;
  dirtyBytesPerSecond: number;
  bandwidthBps: number;
  latencySeconds: number;
  /** bytes of memory sent over the WAN, all VMs */
  transferBytes: number;
  /** seconds from start to the VMs running at their new site */
  migrationSeconds: number;
  /** seconds the job is stopped, all VMs (one after the other) */
  downtimeSeconds: number;
  /** seconds each VM is stopped */
  downtimePerVmSeconds: number;
  /** live: pre-copy rounds (0 for stop-and-copy) */
  rounds: number;
  /** live: whether the dirty set shrank below stopBytes (false: stopped by maxRounds/maxFactor) */
  converged: boolean;
  /** fraction of the link the job's own crossing traffic uses */
  linkShare: number;
  /** downtime + (migrationSeconds - downtime) * linkShare: the job time a relocation costs */
  costSeconds: number;
  /** the other mode, for the record */
  alternative?: Omit<MigrationEstimate, 'alternative'>;
}

export interface GainEstimate {
  /** crossing traffic now and after, per second of run */
  crossBytesPerSecondBefore: number;
  crossBytesPerSecondAfter: number;
  crossMessagesPerSecondBefore: number;
  crossMessagesPerSecondAfter: number;
  /** seconds of WAN time per second of run, before and after (capped at the MPI fraction) */
  wanTimeFractionBefore: number;
  wanTimeFractionAfter: number;
  horizonSeconds: number;
  /** (before - after) * horizon */
  gainSeconds: number;
}

export interface Worthiness {
  gain: GainEstimate;
  cost: MigrationEstimate;
  costFactor: number;
  /** gain >= costFactor * cost */
  worthIt: boolean;
  /** gain / cost (Infinity for a free move) */
  ratio: number;
}

const DEF = {
  vmMemoryBytes: 1024 * 1024 * 1024,
  dirtyBytesPerSecond: 32 * 1024 * 1024,
  stopBytes: 50 * 4096,
  maxRounds: 30,
  maxFactor: 3,
  bandwidthBps: 1e9,
  latencySeconds: 0.005,
  costFactor: 1,
};

type Mode = 'live' | 'stop';

function one(
  mode: Mode,
  vms: number,
  o: CostModelOptions,
  crossBytesPerSecond: number,
): Omit<MigrationEstimate, 'alternative'> {
  const M = o.vmMemoryBytes ?? DEF.vmMemoryBytes;
  const D = o.dirtyBytesPerSecond ?? DEF.dirtyBytesPerSecond;
  const bps = o.bandwidthBps ?? DEF.bandwidthBps;
  const B = bps > 0 ? bps / 8 : Infinity; // bytes/s
  const lat = o.latencySeconds ?? DEF.latencySeconds;
  const rtt = 2 * lat;
  const linkShare = Number.isFinite(B) ? Math.min(1, crossBytesPerSecond / B) : 0;
  let transferBytes: number,
    migrationSeconds: number,
    downtimeSeconds: number,
    downtimePerVm = 0,
    rounds = 0,
    converged = true;
  if (vms === 0) {
    transferBytes = 0;
    migrationSeconds = 0;
    downtimeSeconds = 0;
  } else if (mode === 'stop') {
    transferBytes = vms * M;
    downtimePerVm = M / B + rtt;
    downtimeSeconds = vms * downtimePerVm;
    migrationSeconds = downtimeSeconds;
  } else {
    // One VM at a time (as a site's tools migrate them), each with the whole link.
    const stop = o.stopBytes ?? DEF.stopBytes;
    const maxRounds = o.maxRounds ?? DEF.maxRounds;
    const maxSent = (o.maxFactor ?? DEF.maxFactor) * M;
    let x = M,
      sent = 0,
      time = 0;
    converged = false;
    while (rounds < maxRounds) {
      sent += x;
      const t = x / B;
      time += t;
      rounds++;
      x = Math.min(M, D * t);
      if (x <= stop) {
        converged = true;
        break;
      }
      if (sent >= maxSent) break;
    }
    const down1 = x / B + rtt; // the last round, VM suspended
    transferBytes = vms * (sent + x);
    downtimeSeconds = vms * down1;
    downtimePerVm = down1;
    migrationSeconds = vms * (time + down1);
  }
  // While the VM is down the job waits anyway; the link is shared only while it runs.
  const costSeconds = downtimeSeconds + (migrationSeconds - downtimeSeconds) * linkShare;
  return {
    mode,
    vms,
    vmMemoryBytes: M,
    dirtyBytesPerSecond: D,
    bandwidthBps: bps,
    latencySeconds: lat,
    transferBytes,
    migrationSeconds,
    downtimeSeconds,
    downtimePerVmSeconds: downtimePerVm,
    rounds,
    converged,
    linkShare,
    costSeconds,
  };
}

/**
 * Cost of moving `vms` VMs across the WAN while the job sends `crossBytesPerSecond` across it
 * (see the model at the top of this file). mode 'auto' picks the cheaper; the other is kept in
 * `alternative`.
 */
export function migrationCost(vms: number, crossBytesPerSecond: number, o: CostModelOptions = {}): MigrationEstimate {
  const live = one('live', vms, o, crossBytesPerSecond);
  const stop = one('stop', vms, o, crossBytesPerSecond);
  const mode = o.mode ?? 'auto';
  if (mode === 'live') return { ...live, alternative: stop };
  if (mode === 'stop') return { ...stop, alternative: live };
  // equal costs (an idle link, a live migration that did not converge): the one that moves less
  const liveWins =
    live.costSeconds < stop.costSeconds ||
    (live.costSeconds === stop.costSeconds && live.transferBytes <= stop.transferBytes);
  return liveWins ? { ...live, alternative: stop } : { ...stop, alternative: live };
}

export interface TrafficRates {
  ranks: number;
  wallSeconds: number;
  mpiFraction: number;
  crossBytesBefore: number;
  crossBytesAfter: number;
  crossMessagesBefore: number;
  crossMessagesAfter: number;
}

/** What a relocation saves over the horizon (see the top of this file). */
export function relocationGain(t: TrafficRates, o: CostModelOptions = {}): GainEstimate {
  const w = t.wallSeconds > 0 ? t.wallSeconds : 0;
  const per = (x: number) => (w > 0 ? x / w : 0);
  const bps = o.bandwidthBps ?? DEF.bandwidthBps;
  const B = bps > 0 ? bps / 8 : Infinity;
  const lat = o.latencySeconds ?? DEF.latencySeconds;
  const cap = t.mpiFraction > 0 ? Math.min(1, t.mpiFraction) : 1;
  const frac = (bytesPs: number, msgsPs: number) => Math.min(cap, bytesPs / B + (msgsPs / Math.max(1, t.ranks)) * lat);
  const bb = per(t.crossBytesBefore),
    ba = per(t.crossBytesAfter);
  const mb = per(t.crossMessagesBefore),
    ma = per(t.crossMessagesAfter);
  const before = frac(bb, mb),
    after = frac(ba, ma);
  const horizonSeconds = o.horizonSeconds ?? w;
  return {
    crossBytesPerSecondBefore: bb,
    crossBytesPerSecondAfter: ba,
    crossMessagesPerSecondBefore: mb,
    crossMessagesPerSecondAfter: ma,
    wanTimeFractionBefore: before,
    wanTimeFractionAfter: after,
    horizonSeconds,
    gainSeconds: (before - after) * horizonSeconds,
  };
}

/** Gain and cost side by side, and whether the move pays off. */
export function weigh(t: TrafficRates, vms: number, o: CostModelOptions = {}): Worthiness {
  const gain = relocationGain(t, o);
  const cost = migrationCost(vms, gain.crossBytesPerSecondBefore, o);
  const costFactor = o.costFactor ?? DEF.costFactor;
  const ratio = cost.costSeconds > 0 ? gain.gainSeconds / cost.costSeconds : gain.gainSeconds > 0 ? Infinity : 0;
  return {
    gain,
    cost,
    costFactor,
    worthIt: gain.gainSeconds > 0 && gain.gainSeconds >= costFactor * cost.costSeconds,
    ratio,
  };
}
