// Reading what the shim wrote in file mode (SITEMPI_OUTPUT_DIR, no monitor): per-rank files of
// frames (4-byte little-endian length + one Envelope of proto/sitempi.proto), decoded with
// protobufjs straight from the schema.
import fs from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { parseTable } from '../../native/shim/gen/generate.mjs';
import { ADAPTIVE, collOfKind } from '../../native/shim/gen/kinds.mjs';
import { COLL_NAMES, Role, ROLE_SHIFT, SITE_AWARE_COLLS } from '../../src/generated/facts.js';

const root = protobuf.loadSync(path.join(__dirname, '..', '..', 'proto', 'sitempi.proto'));
const Envelope = root.lookupType('sitempi.Envelope');

const table: { id: number; name: string; kind: string }[] = parseTable(
  fs.readFileSync(path.join(__dirname, '..', '..', 'native', 'shim', 'mpi_functions.txt'), 'utf8'),
);
export const fnName = (id: number): string => table[id]?.name ?? `fn${id}`;
/** core::Coll index of a collective name (Bcast -> 2, ...). */
export const collIndex = (name: string): number => {
  const i = COLL_NAMES.indexOf(name);
  if (i < 0) throw new Error(`unknown collective ${name}`);
  return i;
};

export interface Rec {
  fn: string;
  role: number;
  peer: number;
  bytes: number;
  comm: number;
  alg: number;
  crossMsgs: number;
  crossBytes: number;
}

export interface RankFile {
  rank: number;
  size: number;
  records: Rec[];
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0));

export function readRankFile(file: string): RankFile {
  return decodeStream(fs.readFileSync(file), file);
}

/** One rank's stream of frames (a file, or what a monitor connection received). */
export function decodeStream(buf: Buffer, file = 'stream'): RankFile {
  let off = 0;
  const out: RankFile = { rank: -1, size: 0, records: [] };
  while (off + 4 <= buf.length) {
    const n = buf.readUInt32LE(off);
    if (off + 4 + n > buf.length) throw new Error(`${file}: truncated frame at ${off}`);
    const msg = Envelope.toObject(Envelope.decode(buf.subarray(off + 4, off + 4 + n)), {
      longs: Number,
      arrays: true,
      defaults: true,
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- protobufjs's plain objects are untyped
    }) as Record<string, any>;
    off += 4 + n;
    if (msg.hello) {
      out.rank = num(msg.hello.rank);
      out.size = num(msg.hello.size);
    } else if (msg.batch) {
      const b = msg.batch;
      for (let i = 0; i < b.fn.length; i++) {
        const fn = num(b.fn[i]);
        out.records.push({
          fn: fnName(fn & ((1 << ROLE_SHIFT) - 1)),
          role: fn >>> ROLE_SHIFT,
          peer: num(b.peer[i]),
          bytes: num(b.bytes[i]),
          comm: num(b.comm[i]),
          alg: num(b.alg[i]),
          crossMsgs: num(b.crossMsgs[i]),
          crossBytes: num(b.crossBytes[i]),
        });
      }
    }
  }
  return out;
}

/** Every rank's file in dir, by world rank. */
export function readJob(dir: string): Map<number, RankFile> {
  const out = new Map<number, RankFile>();
  for (const f of fs.readdirSync(dir)) {
    if (!f.endsWith('.smpi')) continue;
    const r = readRankFile(path.join(dir, f));
    out.set(r.rank, r);
  }
  return out;
}

export const COVERED: ReadonlySet<string> = new Set(SITE_AWARE_COLLS);
/** The MPI functions that may run site-aware (Bcast, Ibcast, Reduce_scatter, ...). */
export const COVERED_FNS: ReadonlySet<string> = ADAPTIVE;
/** The collective family of an MPI function (Iallreduce -> Allreduce, Reduce_scatter -> ReduceScatter). */
export const familyOf = (fn: string): string => {
  const row = table.find((t) => t.name === fn);
  const family = row ? collOfKind[row.kind] : undefined;
  if (!family) throw new Error(`not a collective: ${fn}`);
  return family;
};

/** The primary records of the covered (site-aware capable) collectives, in call order. */
export const collRecords = (f: RankFile): Rec[] =>
  f.records.filter((r) => r.role === Role.Coll && COVERED_FNS.has(r.fn));
