// The collective benchmark's types: its options, what one run records, and the results file
// (collectives.json) that the report and the plot read.
import type { LanMode } from '../../src/testbed/state.js';
import type { TcpCounters } from '../../src/testbed/node-tcp.js';
import type { Machine } from '../machine.js';
import type { PointAlgs } from './algs.js';
import type { CollName } from './bounds.js';

export type Mode = 'default' | 'han' | 'sitempi';
export const MODES: Mode[] = ['default', 'han', 'sitempi'];
export type Placement = 'contiguous' | 'interleaved';

/** A testbed layout "NxK": N nodes (half at site A, half at site B), K slots per node. */
export interface Config {
  layout: string;
  placement: Placement;
}

export interface BenchOptions {
  /** Output directory (collectives.json, .md, .svg). */
  out: string;
  quick: boolean;
  configs: Config[];
  modes: Mode[];
  colls: CollName[];
  /** Message sizes in bytes (Barrier runs once, without size). */
  sizes: number[];
  /** Repetitions of every (config, mode) run; modes alternate within a repetition. */
  reps: number;
  /** Which order the jobs run in (row orderOffset + rep of a Williams design, order.ts), so that
   *  separate full runs each put a different job first and after each other job. */
  orderOffset: number;
  /** A second sitempi job alternates the shim's calls with the library's own (PMPI_X): a ratio of
   *  adjacent iterations that the host's slow drifts cannot bias (osu_coll --paired). Its sitempi
   *  figures are not the table's: the library's calls between them disturb them (the sitempi
   *  job's own loop, like the default's, has nothing else in it). */
  paired: boolean;
  /** Every timed call's latency in each result (osu_coll --print-iters: iters_us). */
  printIters: boolean;
  warmup: number;
  iters: number;
  minIters: number;
  /** Time budget of the timed loop of one (collective, size), ms. */
  budgetMs: number;
  /** Hard cap of that loop for very slow calls (fewer than minIters iterations, at least 1), ms. */
  maxPointMs: number;
  /** Calls in a counted phase (at most; fewer for slow calls, at least one); 0 = no counters. */
  count: number;
  countBudgetMs: number;
  rttMs: number;
  bandwidth: string;
  /** --mtu: the testbed's links' MTU (bytes); null: the testbed's default (state.ts DEFAULT_MTU). */
  mtu: number | null;
  /** How same-site packets travel on the testbed (src/testbed/lan.ts). */
  lan: LanMode;
  /** Testbed of the benchmark: its own state dir, prefix and subnets. */
  stateDir: string;
  prefix: string;
  mgmtSubnet: string;
  dataSubnet: string;
  wanemuPath: string;
  /** Shim library for the sitempi mode. */
  shimPath: string;
  /** More environment for the sitempi mode's ranks, e.g. SITEMPI_COLL_SEGMENT_BYTES=0. */
  shimEnv: string[];
  /** Before HAN's timed job on a configuration, one short HAN job: where HAN gives up there (one
   *  process per node) it runs Open MPI's default, and its timed job, a second sample of the
   *  default, is skipped (the best of default and HAN is then the default's). For the same reason
   *  HAN's job leaves out the collectives HAN of this Open MPI does not have (./han.ts). */
  hanProbe: boolean;
  /** The nodes' TCP shrinks a connection's congestion window after an idle RTO (the kernel's
   *  default, net.ipv4.tcp_slow_start_after_idle=1); false: keeps it (--no-tcp-idle-restart). */
  tcpIdleRestart: boolean;
  /** --tcp-cc: the nodes' TCP congestion control (net.ipv4.tcp_congestion_control in each node's
   *  namespace); null: the host's default, which new namespaces inherit. */
  tcpCongestion: string | null;
  /** --btl: Open MPI's point-to-point transports for every mode (the testbed's DEFAULT_BTL). */
  btl: string;
  /** Leave the last testbed up at the end. */
  keepUp: boolean;
  /** Time limit of one mpirun, seconds. */
  runTimeoutS: number;
  log: (line: string) => void;
}

/** One JSON line "type":"result" of osu_coll. */
export interface OsuResult {
  type: 'result';
  coll: CollName;
  bytes: number;
  iters: number;
  warmup: number;
  sync: 'global' | 'barrier';
  median_us: number;
  min_us: number;
  p25_us: number;
  p75_us: number;
  max_us: number;
  last_entry_median_us: number;
  local_median_us: number;
  wake_median_us: number;
  wake_max_us: number;
  warmup_worst_us: number;
  slot_us: number;
  /** false: a slow point, started as the barrier released the ranks (wake_* is then the spread of
   *  their entries), not on the common clock. */
  clocked?: boolean;
  overruns: number;
  ok: boolean;
  /** --print-iters: every timed call's latency in time order (µs; a paired loop's both variants
   *  alternating). */
  iters_us?: number[];
  warmup_us?: number[];
  /** --paired (sitempi mode): the library's own iterations (PMPI_X) of the same loop, alternating
   *  with the shim's, and the median of each adjacent pair's ratio (shim / library). */
  paired?: boolean;
  /** Warm-up calls of the library's own call per size (fewer than `warmup` for an Alltoall: the
   *  shim's calibration calls). */
  pmpi_warmup?: number;
  pmpi_median_us?: number;
  pmpi_p25_us?: number;
  pmpi_p75_us?: number;
  pmpi_wake_median_us?: number;
  paired_ratio_median?: number;
  paired_ratio_p25?: number;
  paired_ratio_p75?: number;
}

/** Counter delta of one counted phase: exactly `calls` back-to-back calls. */
export interface PhaseCount {
  phase: number;
  coll: CollName;
  bytes: number;
  calls: number;
  /** Per directed site pair, bytes / packets / drops during the phase (IP packets). */
  links: { from: string; to: string; bytes: number; packets: number; dropPackets: number }[];
  /** Both directions together, per call. */
  crossBytesPerCall: number;
  crossPacketsPerCall: number;
  /** ms the harness waited for the network to fall silent before / after. */
  quietBeforeMs: number;
  quietAfterMs: number;
  /** The network never fell silent within the limit (the count may include stray traffic). */
  noisy: boolean;
}

export interface HanEvidence {
  /** HAN was selected for MPI_COMM_WORLD (coll_base_verbose: "selecting han ... Enabled"). */
  selected: boolean;
  /** Processes that created HAN's sub-communicators (low = node, up = leaders). */
  processesWithSubcomms: number;
  /** HAN kept itself: it created its sub-communicators in every process. */
  active: boolean;
  /** New communicators per process beyond MPI_COMM_WORLD and MPI_COMM_SELF (max). */
  subcommsPerProcess: number;
}

/** wanemu's CPU during one benchmark point (warm-up, timed loop and check; not the counted phase). */
export interface PointCpu {
  coll: CollName;
  bytes: number;
  cpuS: number;
  wallS: number;
  /** cpuS / wallS: wanemu's share of one core; near 1, the emulator's CPU may have decided the point. */
  share: number;
}

/** The nodes' TCP over one point (src/testbed/node-tcp.ts), summed over the nodes. */
export interface PointTcp extends TcpCounters {
  coll: CollName;
  bytes: number;
}

export interface RunRecord {
  layout: string;
  placement: Placement;
  mode: Mode;
  rep: number;
  np: number;
  rankSites: string[];
  sitesEnv: string;
  hosts: string[];
  mpirun: string[];
  startedAt: string;
  wallS: number;
  loadavgBefore: number[];
  loadavgAfter: number[];
  info: Record<string, unknown> | null;
  results: OsuResult[];
  phases: PhaseCount[];
  /** wanemu's CPU per point, from /proc/PID/stat (absent in results files of older versions). */
  wanemuCpu?: PointCpu[];
  /** The nodes' TCP counters per point, over the same spans (absent in results files of older versions). */
  nodeTcp?: PointTcp[];
  han?: HanEvidence;
  /** HAN's short probe job (hanProbe): its evidence only, no figures. */
  probe?: boolean;
  /** The paired sitempi job (BenchOptions.paired): its paired ratios, library times and shim times
   *  are kept apart from the table's figures, its checks with them (results files before it had one
   *  sitempi job, paired, whose figures were the table's). */
  paired?: boolean;
  shim?: {
    library: string;
    recordFiles: number;
    loaded: boolean;
    /** per point (algs.ts pointKey), the algorithms rank 0 ran (absent in results of older versions) */
    algs?: Record<string, PointAlgs>;
  };
  exitCode: number | null;
  /** What went wrong with this run, if anything (its numbers are then not used). */
  error?: string;
  stderrTail: string;
}

export interface ModeCell {
  medianUs: number | null;
  p25Us: number | null;
  p75Us: number | null;
  wakeMedianUs: number | null;
  crossBytesPerCall: number | null;
  /** wanemu's share of one core during the point (median over repetitions). */
  wanemuCpuShare?: number | null;
  /** The nodes' TCP retransmission timeouts during the point, and their retransmitted share of the
   *  segments sent (medians over repetitions; absent in results of older versions). */
  tcpTimeouts?: number | null;
  tcpRetransShare?: number | null;
  ok: boolean | null;
  reps: number;
  /** Several runs combined (combine.ts): each run's median, in run order (null where it lacks the point). */
  runUs?: (number | null)[];
  /** Paired (sitempi mode): the library's median in the same job, and the median over the job's
   *  adjacent pairs of sitempi / library; per run where runs are combined. */
  pairedLibraryUs?: number | null;
  pairedRatio?: number | null;
  runPairedRatio?: (number | null)[];
  runPairedLibraryUs?: (number | null)[];
  /** The shim's calls of the paired job (its median), where that job was not the figures' own. */
  pairedShimUs?: number | null;
  /** sitempi mode: the algorithm (core::Alg name) of the point's last call, one per repetition */
  algs?: string[];
}

export interface Row {
  layout: string;
  placement: Placement;
  coll: CollName;
  bytes: number;
  modes: Partial<Record<Mode, ModeCell>>;
  bound: { bytes: number; bytesWithHeaders: number; maxLinkBytes: number; timeUs: number };
}

export interface BenchResults {
  meta: {
    program: 'sitempi collective benchmark';
    version: 1;
    startedAt: string;
    durationS: number;
    quick: boolean;
    command: string;
    host: string;
    cpus: number;
    openmpi: string;
    gitCommit: string | null;
    /** lan: absent in results of before it was an option (every packet went through wanemu); tcp:
     *  the nodes' TCP congestion control (absent in results of before 2026-12-02). */
    testbed: {
      rttMs: number;
      alphaMs: number;
      bandwidthBps: number;
      mtu: number;
      sites: string[];
      lan?: LanMode;
      tcp?: string;
      /** tcp was set with --tcp-cc (absent or false: the host's default). */
      tcpSet?: boolean;
      /** net.ipv4.tcp_slow_start_after_idle in the nodes (absent in results of before it was read). */
      tcpSlowStartAfterIdle?: boolean;
      /** Open MPI's transports (absent in results of before 2026-12-04: tcp,self, TCP within a node too). */
      btl?: string;
    };
    options: Omit<BenchOptions, 'log'>;
    sitempiColl: string;
    /** The shim library the sitempi mode preloaded (a copy of `source` taken at the start). */
    shim: { source: string; sha1: string; mtime: string } | null;
    notes: string[];
    /** Present when this file combines several full runs (combine.ts), one entry per run. */
    combined?: ({
      startedAt: string;
      durationS: number;
      gitCommit: string | null;
      shimSha1: string | null;
      loadavg: [number, number];
    } & Partial<Machine>)[];
  } & Partial<Machine>; // the machine: absent in results of before 2026-12-04 14:10 UTC (its kernel: 15:20)
  runs: RunRecord[];
  rows: Row[];
}
