// The one place the native addon (native/addon, built to build/Release/sitempi.node) is loaded.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { BUILD_HINT, nativeBuildDir } from './paths.js';

export { packageRoot, nativeBuildDir, shimLibraryPath, wanemuPath } from './paths.js';

/** Flows between communicator ranks that one collective record accounts for. */
export interface Flows {
  src: Int32Array;
  dst: Int32Array;
  bytes: Float64Array;
  msgs: Uint32Array;
}

export interface BatchColumns {
  seq?: number;
  dropped?: number;
  epoch?: number;
  fn: Uint32Array;
  peer: Int32Array;
  bytes: Float64Array;
  comm: Uint32Array;
  alg: Uint32Array;
  start: Float64Array;
  duration: Float64Array;
  crossMsgs?: Uint32Array;
  crossBytes?: Float64Array;
  tag?: Uint32Array;
}

/** One call's shape for the cost model's prediction of what crosses sites (native/core/cost_model.h). */
export interface CollPrediction {
  coll: number;
  /** site index of every communicator rank */
  siteOf: number[];
  root?: number;
  /** bytes: per rank (gather/allgather), per pair (alltoall), or the buffer */
  m: number;
  elems?: number;
  /** v-variants: per-rank blocks, or the P x P matrix (alltoallv) */
  blocks?: number[];
  matrix?: number[];
  commutative?: boolean;
  rsagMin?: number;
  alphaUs?: number;
  bandwidthMbps?: number;
  /** force an algorithm instead of the one the shim would choose */
  alg?: number;
  /** SITEMPI_COLL_ALLTOALL as the shim parsed it: 0 auto, 1 grouped, 2 pairwise, 3 library, 4 model */
  alltoall?: number;
  /** SITEMPI_COLL_SMALL as the shim read it (default 1024; 0: small calls never run the library's) */
  smallBytes?: number;
  /** SITEMPI_COLL_SPREAD as the shim read it (default true; false: the leaders at every size) */
  spread?: boolean;
  /** every site lies within one node, as the shim found at Init (default false: small calls may
   *  run the library's butterfly, which sites of one node never do) */
  nodeSites?: boolean;
  /** a non-blocking call (Iallreduce): never spread (default false) */
  nonBlocking?: boolean;
}

export interface NativeAddon {
  /**
   * Flows between communicator ranks that one rank's collective record accounts for. Site-aware
   * algorithms (alg != 0) need the site of every communicator rank; v-variants their element
   * count and per-peer bytes.
   */
  expandCollective(
    coll: number,
    alg: number,
    me: number,
    root: number,
    size: number,
    bytes: number,
    siteOf?: number[],
    /** nonBlocking: a non-blocking call (coll/libnbc's schedules, native/core/nbc.h), not coll/tuned's */
    extra?: { elems?: number; peerBytes?: number[]; nonBlocking?: boolean },
  ): Flows;
  /** Messages and bytes each rank sends across sites in one call, as the shim counts them. */
  predictCollective(call: CollPrediction): {
    alg: number;
    crossMsgs: number[];
    crossBytes: number[];
    sites: number;
    /** an Alltoall whose choice the shim settles by timing: the other algorithm it may run */
    alternative?: number;
  };
  /** The shim's SITEMPI_SITES parser; throws Error with the shim's message. */
  parseSites(text: string, worldSize: number, hosts?: string[]): { names: string[]; siteOf: number[] };
  /** The shim's SITEMPI_COLL parser: names of the enabled collectives. */
  parseCollSwitch(text: string): string[];
  /** Message size from which leaders use reduce-scatter + allgather for allreduce. */
  rsagThreshold(sites: number, alphaUs: number, bandwidthMbps: number): number;
  encodeBatch(batch: BatchColumns): Buffer;
  encodeHello(h: {
    job: string;
    rank: number;
    size: number;
    host?: string;
    pid?: number;
    startNs?: number;
    token?: string;
    program?: string;
    jobKey?: string;
  }): Buffer;
  encodeCommDef(c: { localId: number; globalId: number; members: number[]; remoteMembers?: number[] }): Buffer;
  encodeBye(b: { endNs: number; records: number; dropped: number; mpiNs: number }): Buffer;
  encodePlacement(p: { epoch: number; sites: string[]; siteOf: number[] }): Buffer;
  decodeEnvelope(body: Uint8Array): {
    kind: 'placement' | 'ack' | 'error' | 'other' | 'malformed';
    epoch?: number;
    sites?: string[];
    siteOf?: number[];
    seq?: number;
    message?: string;
  };
  protocolVersion: number;
  maxFrameBytes: number;
  /** The partitioner (native/core/partition.h); src/partition/partition.ts checks the input first. */
  partition(
    n: number,
    xadj: Int32Array,
    adjncy: Int32Array,
    adjwgt: Float64Array,
    vwgt: Int32Array | null,
    caps: Float64Array,
    opts: {
      seed?: number;
      cuts?: number;
      tries?: number;
      passes?: number;
      fmRounds?: number;
      fmWork?: number;
      coarsenTo?: number;
    },
    start: Int32Array | null,
  ): { part: Int32Array; cut: number };
}

function load(): NativeAddon {
  const file = path.join(nativeBuildDir, 'sitempi.node');
  if (!fs.existsSync(file)) {
    throw new Error(`sitempi: native addon not built (${file} is missing); build it: ${BUILD_HINT}`);
  }
  return createRequire(import.meta.url)(file) as NativeAddon;
}

export const addon: NativeAddon = load();
export const { expandCollective } = addon;
