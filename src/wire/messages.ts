// Decoding Envelopes (monitor side) and encoding what the monitor sends (Ack, Error, Placement).
//
// Batches, the hot path, are decoded by ./batch.ts (re-exported here). Every other message goes
// through protobufjs's reflection decoder of proto/sitempi.proto, except CommDef (decoded by hand).
//
// 64-bit values: Hello.startNs (ns since 1970, > 2^53) is a bigint; see ./batch.ts for Batch's.
import { CommDefField, EnvelopeField } from '../generated/wire_fields.js';
import { decodeBatch, malformed, type Batch, type BatchScratch } from './batch.js';
import { toBig, toNum } from './decode-common.js';
import { frame, WireError } from './frames.js';
import { messageType, protobuf, PROTOCOL_VERSION } from './proto.js';

export { BatchScratch, decodeBatch, type Batch } from './batch.js';

export interface Hello {
  protocol: number;
  job: string;
  rank: number;
  size: number;
  host: string;
  pid: number;
  /** CLOCK_REALTIME at MPI_Init, ns since the epoch. */
  startNs: bigint;
  token: string;
  program: string;
  /** Per-job secret handed by the launcher (empty: none); binds the rank to its job. */
  jobKey: string;
}

export interface CommDef {
  localId: number;
  globalId: bigint;
  members: number[];
  /** remote group of an intercommunicator (field 4; empty for intracommunicators) */
  remoteMembers: number[];
}

export interface Placement {
  epoch: number;
  sites: string[];
  siteOf: number[];
}

export interface Bye {
  endNs: number;
  records: number;
  dropped: number;
  mpiNs: number;
}

export type Envelope =
  | { kind: 'hello'; hello: Hello }
  | { kind: 'batch'; batch: Batch }
  | { kind: 'commDef'; commDef: CommDef }
  | { kind: 'placement'; placement: Placement }
  | { kind: 'ack'; ack: { seq: number } }
  | { kind: 'error'; error: { message: string } }
  | { kind: 'bye'; bye: Bye }
  /** an Envelope with no (known) message set: ignored by the monitor for forward compatibility */
  | { kind: 'unknown' };

/** CommDef, decoded by hand (members and remote members as packed or unpacked lists). */
function decodeCommDef(buf: Uint8Array, start: number, end: number): CommDef {
  const r = protobuf.Reader.create(buf);
  r.pos = start;
  r.len = end;
  const c: CommDef = { localId: 0, globalId: 0n, members: [], remoteMembers: [] };
  try {
    while (r.pos < end) {
      const key = r.uint32();
      const field = key >>> 3,
        wt = key & 7;
      const list =
        field === CommDefField.members ? c.members : field === CommDefField.remoteMembers ? c.remoteMembers : null;
      if (field === CommDefField.localId && wt === 0) c.localId = r.uint32();
      else if (field === CommDefField.globalId && wt === 0) c.globalId = toBig(r.uint64());
      else if (list && wt === 2) {
        const len = r.uint32();
        const stop = r.pos + len;
        if (stop > end) malformed('comm def');
        r.pos = readPackedUint32(buf, r.pos, stop, list);
      } else if (list && wt === 0) list.push(r.uint32());
      else r.skipType(wt);
    }
  } catch (e) {
    if (e instanceof WireError) throw e;
    malformed('comm def');
  }
  if (r.pos !== end) malformed('comm def');
  return c;
}

/**
 * Packed uint32 varints of buf[pos..stop) appended to list; returns stop. Inline rather than
 * Reader.uint32 per member: every rank of a job sends MPI_COMM_WORLD with all P members, so a
 * 16 384-rank job's Hellos decode 2^28 members. Like protobuf, a varint of up to 10 bytes is read
 * and its low 32 bits kept.
 */
function readPackedUint32(buf: Uint8Array, pos: number, stop: number, list: number[]): number {
  while (pos < stop) {
    let v = 0,
      b = 0x80;
    for (let shift = 0; b & 0x80; shift += 7) {
      if (pos >= stop || shift > 63) malformed('comm def');
      b = buf[pos++];
      if (shift < 32) v |= (b & 0x7f) << shift;
    }
    list.push(v >>> 0);
  }
  return pos;
}

// The kinds are the Envelope's field names: tsc fails here when the .proto gains a message that
// the decoder below does not know, or loses one it does.
type Kind = Exclude<Envelope['kind'], 'unknown'>;
const envelopeKinds: { [K in Kind]: number } & { [K in Exclude<keyof typeof EnvelopeField, Kind>]: never } =
  EnvelopeField;
/** Envelope field number -> message kind. */
const envelopeFields: Record<number, Kind> = Object.fromEntries(
  Object.entries(envelopeKinds).map(([kind, field]) => [field, kind as Kind]),
);

/**
 * Decodes one Envelope body (a frame without its length prefix). Throws `WireError` when it is
 * not a valid Envelope. `scratch` is passed to `decodeBatch`.
 */
export function decodeEnvelope(body: Uint8Array, scratch?: BatchScratch): Envelope {
  // Find the (last, as protobuf's oneof semantics say) message field of the Envelope.
  const r = protobuf.Reader.create(body);
  let kind: Envelope['kind'] = 'unknown';
  let ms = 0,
    me = 0;
  try {
    while (r.pos < r.len) {
      const key = r.uint32();
      const field = key >>> 3,
        wt = key & 7;
      if (field === 0) malformed('envelope (field 0)');
      if (wt === 2 && envelopeFields[field]) {
        const len = r.uint32();
        if (len > r.len - r.pos) malformed('envelope (length past the end)');
        kind = envelopeFields[field];
        ms = r.pos;
        me = r.pos + len;
        r.pos = me;
      } else {
        r.skipType(wt);
      }
    }
  } catch (e) {
    if (e instanceof WireError) throw e;
    malformed('envelope');
  }
  if (r.pos !== r.len) malformed('envelope');
  switch (kind) {
    case 'batch':
      return { kind, batch: decodeBatch(body, ms, me, scratch) };
    case 'commDef':
      return { kind, commDef: decodeCommDef(body, ms, me) };
    case 'unknown':
      return { kind };
    default:
      break;
  }
  let m: Record<string, unknown>;
  try {
    const Type = messageType(
      kind === 'hello'
        ? 'Hello'
        : kind === 'placement'
          ? 'Placement'
          : kind === 'ack'
            ? 'Ack'
            : kind === 'error'
              ? 'Error'
              : 'Bye',
    );
    m = Type.toObject(Type.decode(body.subarray(ms, me)), { longs: String, defaults: true, arrays: true }) as Record<
      string,
      unknown
    >;
  } catch (e) {
    throw new WireError(`malformed ${kind}: ${(e as Error).message}`);
  }
  switch (kind) {
    case 'hello':
      return {
        kind,
        hello: {
          protocol: toNum(m.protocol),
          job: String(m.job ?? ''),
          rank: toNum(m.rank),
          size: toNum(m.size),
          host: String(m.host ?? ''),
          pid: toNum(m.pid),
          startNs: toBig(m.startNs),
          token: String(m.token ?? ''),
          program: String(m.program ?? ''),
          jobKey: String(m.jobKey ?? ''),
        },
      };
    case 'placement':
      return {
        kind,
        placement: {
          epoch: toNum(m.epoch),
          sites: (m.sites as string[]) ?? [],
          siteOf: ((m.siteOf as unknown[]) ?? []).map(toNum),
        },
      };
    case 'ack':
      return { kind, ack: { seq: toNum(m.seq) } };
    case 'error':
      return { kind, error: { message: String(m.message ?? '') } };
    case 'bye':
      return {
        kind,
        bye: { endNs: toNum(m.endNs), records: toNum(m.records), dropped: toNum(m.dropped), mpiNs: toNum(m.mpiNs) },
      };
  }
}

// --- what the monitor sends ------------------------------------------------------------------

function encodeEnvelope(msg: Record<string, unknown>): Buffer {
  const Env = messageType('Envelope');
  return frame(Env.encode(Env.fromObject(msg)).finish());
}

/** One frame: Ack{seq}. */
export function encodeAck(seq: number): Buffer {
  return encodeEnvelope({ ack: { seq } });
}

/** One frame: Error{message}. */
export function encodeError(message: string): Buffer {
  return encodeEnvelope({ error: { message } });
}

/** One frame: Placement{epoch, sites, siteOf}. */
export function encodePlacement(p: Placement): Buffer {
  return encodeEnvelope({ placement: { epoch: p.epoch, sites: p.sites, siteOf: p.siteOf } });
}

/** One frame: Hello (for tools and tests that play a rank). */
export function encodeHello(h: Partial<Hello> & { job: string; rank: number; size: number }): Buffer {
  return encodeEnvelope({
    hello: {
      protocol: h.protocol ?? PROTOCOL_VERSION,
      job: h.job,
      rank: h.rank,
      size: h.size,
      host: h.host ?? '',
      pid: h.pid ?? 0,
      startNs: (h.startNs ?? 0n).toString(),
      token: h.token ?? '',
      program: h.program ?? '',
      jobKey: h.jobKey ?? '',
    },
  });
}
