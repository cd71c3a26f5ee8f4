// The tag column (Batch field 13) against files of older shims and older readers: a batch without
// it reads as tags 0 and replays as before (RecvDone resolving an ANY_SOURCE Irecv); readers with
// the schema before the column skip it and read every other column alike; the C++ encoder leaves
// it out when all tags are 0, so that such batches are the bytes older shims wrote.
import fs from 'node:fs';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { Role } from '../../src/generated/functions.js';
import { addon } from '../../src/native/addon.js';
import { buildTrace, type RankRecords } from '../../src/replay/records.js';
import { decodeEnvelope } from '../../src/wire/messages.js';
import { protoPath } from '../../src/wire/proto.js';
import { batchFrame, fnCode, type Rec } from '../helpers/fake-rank.js';

const send = fnCode('MPI_Send', Role.Send);
const recs: Rec[] = [
  { fn: send, peer: 1, bytes: 8, tag: 5 },
  { fn: fnCode('MPI_Irecv', Role.Other), peer: 2 },
  { fn: fnCode('MPI_Irecv', Role.RecvDone), peer: 2, bytes: 12, tag: 70_000 }, // past the slot's 16 bits
  { fn: fnCode('MPI_Barrier', Role.Coll), comm: 1 },
];

const batchOf = (frame: Buffer) => {
  const env = decodeEnvelope(frame.subarray(4));
  if (env.kind !== 'batch') throw new Error(env.kind);
  return env.batch;
};

/** The schema before the tag column, as older monitors load it. */
function oldEnvelope(): protobuf.Type {
  const text = fs.readFileSync(protoPath, 'utf8');
  const old = text.replace(/^\s*repeated uint32 tag = 13;.*$/m, '');
  expect(old).not.toBe(text);
  return protobuf.parse(old).root.lookupType('sitempi.Envelope');
}

describe('the tag column and older files', () => {
  it('round-trips tags, and a reader of the old schema reads the other columns of the same bytes', () => {
    const frame = batchFrame(3, recs);
    const b = batchOf(frame);
    expect(Array.from(b.tag)).toEqual([5, 0, 70_000, 0]);
    expect(Array.from(b.bytes)).toEqual([8, 0, 12, 0]);
    const old = oldEnvelope().toObject(oldEnvelope().decode(frame.subarray(4)), { longs: Number }) as {
      batch: Record<string, number[]>;
    };
    expect(old.batch.tag).toBeUndefined();
    expect(old.batch.fn).toEqual(recs.map((r) => r.fn));
    expect(old.batch.bytes).toEqual([8, 0, 12, 0]);
    expect(old.batch.peer).toEqual([1, 2, 2, -1]);
  });

  it('a batch of the old schema reads as tags 0; all-zero tags are left out, as older shims wrote', () => {
    const untagged = recs.map((r) => ({ ...r, tag: 0 }));
    const frame = batchFrame(3, untagged);
    const cols = {
      ...{ seq: 3, dropped: 0, epoch: 0 },
      fn: Uint32Array.from(untagged.map((r) => r.fn)),
      peer: Int32Array.from(untagged.map((r) => r.peer ?? -1)),
      bytes: Float64Array.from(untagged.map((r) => r.bytes ?? 0)),
      comm: Uint32Array.from(untagged.map((r) => r.comm ?? 0)),
      alg: new Uint32Array(4),
      start: Float64Array.from([10, 20, 30, 40]),
      duration: Float64Array.from([5, 5, 5, 5]),
    };
    expect(addon.encodeBatch(cols).equals(frame)).toBe(true); // no tag column at all
    // written by the old schema's own encoder
    const env = oldEnvelope();
    const body = env
      .encode(
        env.fromObject({
          batch: { seq: 3, fn: Array.from(cols.fn), peer: Array.from(cols.peer), bytes: [8, 0, 12, 0] },
        }),
      )
      .finish();
    const b = decodeEnvelope(body);
    if (b.kind !== 'batch') throw new Error(b.kind);
    expect(b.batch.n).toBe(4);
    expect(Array.from(b.batch.tag)).toEqual([0, 0, 0, 0]);
    expect(Array.from(b.batch.bytes)).toEqual([8, 0, 12, 0]);
  });

  it('records of older shims replay as before: posted bytes at the Irecv, RecvDone for ANY_SOURCE only', () => {
    const hello = (rank: number) => ({
      ...{ protocol: 1, job: 'old', rank, size: 2, host: 'h', pid: 1, startNs: 0n },
      ...{ token: '', program: '', jobKey: '' },
    });
    const world = new Map([[1, { key: '1:0,1|', members: [0, 1] }]]);
    const at = (n: number) => Array.from({ length: n }, (_, i) => 100 * (i + 1));
    const old = (rank: number, fn: number[], peer: number[], bytes: number[]): RankRecords => ({
      hello: hello(rank),
      ...{ fn, peer, bytes, comm: fn.map(() => 1), start: at(fn.length), duration: fn.map(() => 10) },
      ...{ alg: fn.map(() => 0), comms: world },
    });
    const ranks = [
      // rank 0: an Irecv from 1 (its record: the posted 4000 bytes), one from ANY_SOURCE, a Waitall
      // and the ANY_SOURCE receive's RecvDone
      old(
        0,
        [
          fnCode('MPI_Irecv', Role.Recv),
          fnCode('MPI_Irecv', Role.Other),
          fnCode('MPI_Waitall', Role.Other),
          fnCode('MPI_Irecv', Role.RecvDone),
        ],
        [1, -1, -1, 1],
        [4000, 0, 0, 4000],
      ),
      old(1, [send, send], [0, 0], [8, 16]),
    ];
    const t = buildTrace(ranks);
    expect(t.unmatched).toBe(0);
    const r0 = Array.from({ length: t.first[1] }, (_, i) => i).filter((i) => t.match[i] >= 0);
    expect(r0.map((i) => [t.peer[i], t.bytes[t.match[i]]])).toEqual([
      [1, 8],
      [1, 16],
    ]);
  });
});
