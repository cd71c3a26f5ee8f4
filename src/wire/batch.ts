// The Batch decoder, the monitor's hot path: a Batch's packed columns are decoded straight into
// typed arrays with tight varint loops over the protobufjs Reader's buffer (about 10x faster than
// the reflection decoder, which builds a JS array and a Long per uint64). Batches that use legal
// but unusual encodings (unpacked or split columns) fall back to the reflection decoder.
//
// 64-bit values: uint64 columns (bytes, times) are decoded into float64. They are exact up to
// 2^53 (9.0e15: 9 PB, or 104 days in ns); larger values are rounded to the nearest double and the
// batch's `inexact` flag is set.
//
// `malformed` (the error for bad input, also used by ./messages.ts) is defined here rather than
// imported: with it imported, the column loops measured about 2% slower (node 20, A/B runs).
import { BatchField } from '../generated/wire_fields.js';
import { toNum } from './decode-common.js';
import { WireError } from './frames.js';
import { messageType, protobuf } from './proto.js';

/** One decoded Batch: columns of equal length `n`. Times are ns since Hello.startNs. */
export interface Batch {
  seq: number;
  dropped: number;
  epoch: number;
  n: number;
  /** function id | role << ROLE_SHIFT */
  fn: Uint32Array;
  peer: Int32Array;
  bytes: Float64Array;
  comm: Uint32Array;
  /** absolute start times (the wire's deltas, summed) */
  start: Float64Array;
  duration: Float64Array;
  alg: Uint32Array;
  crossMsgs: Uint32Array;
  crossBytes: Float64Array;
  /** point-to-point tag (a receive's from its status); zeros in batches without the column */
  tag: Uint32Array;
  /** true when some uint64 value was >= 2^53 and had to be rounded */
  inexact: boolean;
}

const TWO53 = 9007199254740992;

/** Reusable scratch columns for `decodeBatch`, so that the hot path allocates nothing. */
export class BatchScratch {
  cap = 0;
  fn = new Uint32Array(0);
  peer = new Int32Array(0);
  bytes = new Float64Array(0);
  comm = new Uint32Array(0);
  start = new Float64Array(0);
  duration = new Float64Array(0);
  alg = new Uint32Array(0);
  crossMsgs = new Uint32Array(0);
  crossBytes = new Float64Array(0);
  tag = new Uint32Array(0);
  ensure(n: number): void {
    if (n <= this.cap) return;
    const c = Math.max(n, this.cap * 2, 1024);
    this.cap = c;
    this.fn = new Uint32Array(c);
    this.peer = new Int32Array(c);
    this.bytes = new Float64Array(c);
    this.comm = new Uint32Array(c);
    this.start = new Float64Array(c);
    this.duration = new Float64Array(c);
    this.alg = new Uint32Array(c);
    this.crossMsgs = new Uint32Array(c);
    this.crossBytes = new Float64Array(c);
    this.tag = new Uint32Array(c);
  }
}

export function malformed(what: string): never {
  throw new WireError(`malformed ${what}`);
}

// --- raw varint helpers over a Uint8Array (bounds: see decodeColumn*) -----------------------

/** Counts varints in buf[start, end): bytes without the continuation bit. */
function countVarints(buf: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) n += (buf[i] >>> 7) ^ 1;
  return n;
}

// Each column decoder reads exactly n varints from [pos, end) and fails unless they end at `end`.
// A varint running past `end` is caught by the final position check (the byte count of a column
// was not used to size it), and bytes past the buffer read as undefined -> 0 with the
// continuation bit clear, which ends the varint; the position check then rejects it.

function decodeU32Column(
  buf: Uint8Array,
  pos: number,
  end: number,
  n: number,
  out: Uint32Array | Int32Array,
  zigzag: boolean,
): void {
  for (let i = 0; i < n; i++) {
    let b = buf[pos++];
    let v = b & 0x7f;
    if (b >= 0x80) {
      b = buf[pos++];
      v |= (b & 0x7f) << 7;
      if (b >= 0x80) {
        b = buf[pos++];
        v |= (b & 0x7f) << 14;
        if (b >= 0x80) {
          b = buf[pos++];
          v |= (b & 0x7f) << 21;
          if (b >= 0x80) {
            b = buf[pos++];
            v |= (b & 0x0f) << 28;
            // a 64-bit varint (int32 written as int64): keep the low 32 bits, skip the rest
            for (let k = 0; b >= 0x80; k++) {
              if (k === 5) malformed('varint');
              b = buf[pos++];
            }
          }
        }
      }
    }
    out[i] = zigzag ? (v >>> 1) ^ -(v & 1) : v;
  }
  if (pos !== end) malformed('packed column (length mismatch)');
}

/** Decodes n uint64 varints as doubles; returns true when one was >= 2^53 (rounded). */
function decodeU64Column(
  buf: Uint8Array,
  pos: number,
  end: number,
  n: number,
  out: Float64Array,
  delta: boolean,
): boolean {
  let inexact = false;
  let acc = 0;
  for (let i = 0; i < n; i++) {
    let b = buf[pos++];
    let v: number;
    if (b < 0x80) {
      v = b;
    } else {
      // low 28 bits in an int, the rest as a double
      let lo = b & 0x7f;
      b = buf[pos++];
      lo |= (b & 0x7f) << 7;
      if (b < 0x80) v = lo;
      else {
        b = buf[pos++];
        lo |= (b & 0x7f) << 14;
        if (b < 0x80) v = lo;
        else {
          b = buf[pos++];
          lo |= (b & 0x7f) << 21;
          if (b < 0x80) v = lo;
          else {
            let hi = 0;
            let mul = 268435456; // 2^28
            let k = 0;
            do {
              b = buf[pos++];
              hi += (b & 0x7f) * mul;
              mul *= 128;
              if (++k > 6) malformed('varint');
            } while (b >= 0x80);
            v = lo + hi;
            if (v >= TWO53) inexact = true;
          }
        }
      }
    }
    if (delta) {
      acc += v;
      out[i] = acc;
    } else out[i] = v;
  }
  if (pos !== end) malformed('packed column (length mismatch)');
  if (delta && acc >= TWO53) inexact = true;
  return inexact;
}

/** Reads one uint64 varint at r.pos as a double (scalar fields). */
function readU64(r: protobuf.Reader): number {
  const buf = r.buf;
  let v = 0;
  let mul = 1;
  for (let k = 0; k < 10; k++) {
    if (r.pos >= r.len) malformed('varint');
    const b = buf[r.pos++];
    v += (b & 0x7f) * mul;
    if (b < 0x80) return v;
    mul *= 128;
  }
  return malformed('varint');
}

function skipField(r: protobuf.Reader, wireType: number): void {
  try {
    r.skipType(wireType);
  } catch {
    malformed('field');
  }
  if (r.pos > r.len) malformed('field');
}

// The packed columns are Batch fields fn..tag (consecutive numbers); the scalars before them.
const FIRST_COLUMN = BatchField.fn;
const LAST_COLUMN = BatchField.tag;

/**
 * Decodes a Batch message body (buf[start, end)). With `scratch`, the columns are views of the
 * scratch arrays (valid until the next call with the same scratch); without it they are fresh.
 */
export function decodeBatch(buf: Uint8Array, start = 0, end = buf.length, scratch?: BatchScratch): Batch {
  const r = protobuf.Reader.create(buf);
  r.pos = start;
  r.len = end;
  let seq = 0,
    dropped = 0,
    epoch = 0;
  // [start, end) of each packed column by field number; -1 when absent.
  const colStart = new Int32Array(LAST_COLUMN + 1).fill(-1);
  const colEnd = new Int32Array(LAST_COLUMN + 1);
  let unpacked = false;
  while (r.pos < end) {
    let key: number;
    try {
      key = r.uint32();
    } catch {
      malformed('batch');
    }
    const field = key >>> 3,
      wt = key & 7;
    if (field === 0) malformed('batch (field 0)');
    if (field < FIRST_COLUMN && wt === 0) {
      const v = readU64(r);
      if (field === BatchField.seq) seq = v;
      else if (field === BatchField.dropped) dropped = v;
      else if (field === BatchField.epoch) epoch = v;
    } else if (field >= FIRST_COLUMN && field <= LAST_COLUMN && wt === 2) {
      let len: number;
      try {
        len = r.uint32();
      } catch {
        malformed('batch');
      }
      if (len > end - r.pos) malformed('batch (length past the end)');
      if (colStart[field] >= 0) {
        unpacked = true;
      } // a column split in pieces: slow path
      colStart[field] = r.pos;
      colEnd[field] = r.pos + len;
      r.pos += len;
    } else if (field >= FIRST_COLUMN && field <= LAST_COLUMN && wt === 0) {
      unpacked = true; // legal protobuf (unpacked repeated scalars) that the shim never writes
      readU64(r);
    } else {
      skipField(r, wt);
    }
  }
  if (r.pos !== end) malformed('batch');
  if (unpacked) return decodeBatchReflection(buf.subarray(start, end), scratch);

  const n = colStart[BatchField.fn] >= 0 ? countVarints(buf, colStart[BatchField.fn], colEnd[BatchField.fn]) : 0;
  let fn: Uint32Array, peer: Int32Array, bytes: Float64Array, comm: Uint32Array, st: Float64Array;
  let duration: Float64Array, alg: Uint32Array, crossMsgs: Uint32Array, crossBytes: Float64Array, tag: Uint32Array;
  if (scratch) {
    scratch.ensure(n);
    fn = scratch.fn.subarray(0, n);
    peer = scratch.peer.subarray(0, n);
    bytes = scratch.bytes.subarray(0, n);
    comm = scratch.comm.subarray(0, n);
    st = scratch.start.subarray(0, n);
    duration = scratch.duration.subarray(0, n);
    alg = scratch.alg.subarray(0, n);
    crossMsgs = scratch.crossMsgs.subarray(0, n);
    crossBytes = scratch.crossBytes.subarray(0, n);
    tag = scratch.tag.subarray(0, n);
  } else {
    fn = new Uint32Array(n);
    peer = new Int32Array(n);
    bytes = new Float64Array(n);
    comm = new Uint32Array(n);
    st = new Float64Array(n);
    duration = new Float64Array(n);
    alg = new Uint32Array(n);
    crossMsgs = new Uint32Array(n);
    crossBytes = new Float64Array(n);
    tag = new Uint32Array(n);
  }
  let inexact = false;
  // Absent columns are all zero (the shim leaves out all-zero alg/cross/tag columns; files from
  // shims before the tag column have none).
  const u32 = (f: number, out: Uint32Array | Int32Array, zz: boolean) => {
    if (colStart[f] < 0) {
      if (scratch) out.fill(0);
      return;
    }
    decodeU32Column(buf, colStart[f], colEnd[f], n, out, zz);
  };
  const u64 = (f: number, out: Float64Array, delta: boolean) => {
    if (colStart[f] < 0) {
      if (scratch) out.fill(0);
      return;
    }
    if (decodeU64Column(buf, colStart[f], colEnd[f], n, out, delta)) inexact = true;
  };
  if (n > 0) {
    u32(BatchField.fn, fn, false);
    u32(BatchField.peer, peer, true);
    u64(BatchField.bytes, bytes, false);
    u32(BatchField.comm, comm, false);
    u64(BatchField.startDelta, st, true);
    u64(BatchField.duration, duration, false);
    u32(BatchField.alg, alg, false);
    u32(BatchField.crossMsgs, crossMsgs, false);
    u64(BatchField.crossBytes, crossBytes, false);
    u32(BatchField.tag, tag, false);
  } else {
    for (let f = FIRST_COLUMN + 1; f <= LAST_COLUMN; f++)
      if (colStart[f] >= 0 && colEnd[f] > colStart[f]) malformed('batch (columns of different lengths)');
  }
  return {
    seq,
    dropped,
    epoch,
    n,
    fn,
    peer,
    bytes,
    comm,
    start: st,
    duration,
    alg,
    crossMsgs,
    crossBytes,
    tag,
    inexact,
  };
}

/** The reflection decoder, for batches that use legal but unusual encodings (unpacked fields). */
function decodeBatchReflection(body: Uint8Array, scratch?: BatchScratch): Batch {
  let m: Record<string, unknown>;
  try {
    m = messageType('Batch').decode(body) as unknown as Record<string, unknown>;
  } catch (e) {
    throw new WireError(`malformed batch: ${(e as Error).message}`);
  }
  const col = (name: string): unknown[] => (Array.isArray(m[name]) ? (m[name] as unknown[]) : []);
  const n = col('fn').length;
  for (const name of ['peer', 'bytes', 'comm', 'startDelta', 'duration', 'alg', 'crossMsgs', 'crossBytes', 'tag']) {
    const len = col(name).length;
    if (len !== n && len !== 0) malformed('batch (columns of different lengths)');
  }
  const s = scratch ?? new BatchScratch();
  s.ensure(n);
  const b: Batch = {
    seq: toNum(m.seq),
    dropped: toNum(m.dropped),
    epoch: toNum(m.epoch),
    n,
    fn: s.fn.subarray(0, n),
    peer: s.peer.subarray(0, n),
    bytes: s.bytes.subarray(0, n),
    comm: s.comm.subarray(0, n),
    start: s.start.subarray(0, n),
    duration: s.duration.subarray(0, n),
    alg: s.alg.subarray(0, n),
    crossMsgs: s.crossMsgs.subarray(0, n),
    crossBytes: s.crossBytes.subarray(0, n),
    tag: s.tag.subarray(0, n),
    inexact: false,
  };
  const fill = (name: string, out: Uint32Array | Int32Array | Float64Array) => {
    const a = col(name);
    for (let i = 0; i < n; i++) out[i] = a.length ? toNum(a[i]) : 0;
  };
  fill('fn', b.fn);
  fill('peer', b.peer);
  fill('bytes', b.bytes);
  fill('comm', b.comm);
  fill('duration', b.duration);
  fill('alg', b.alg);
  fill('crossMsgs', b.crossMsgs);
  fill('crossBytes', b.crossBytes);
  fill('tag', b.tag);
  const deltas = col('startDelta');
  let acc = 0;
  for (let i = 0; i < n; i++) {
    acc += deltas.length ? toNum(deltas[i]) : 0;
    b.start[i] = acc;
  }
  return b;
}
