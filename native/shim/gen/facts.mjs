// The facts that the shim (C++) and the monitor (TypeScript) must agree on, written once here.
// generate.mjs writes them into build/generated/facts.h (the shim, native/core, the addon) and
// src/generated/facts.ts (the monitor, the tests); the field numbers of the wire format come from
// proto/sitempi.proto the same way (proto_fields.mjs). test/wire/facts.test.ts regenerates both
// and fails when a copy drifts or a constant is written by hand again.

/** Batch.fn = function id | role << ROLE_SHIFT: function ids stay below 512. */
export const ROLE_SHIFT = 9;

/** Roles (high bits of Record.fn): how a record counts in the communication matrix. */
export const ROLES = [
  { name: 'Other', value: 0, doc: 'no traffic of its own (waits, probes, management)' },
  { name: 'Send', value: 1, doc: 'this rank -> peer' },
  { name: 'Recv', value: 2, doc: "peer -> this rank, already counted by the sender's record" },
  { name: 'Pull', value: 3, doc: 'peer -> this rank, counted here (one-sided get)' },
  { name: 'Coll', value: 4, doc: 'collective: expanded by the cost model' },
  { name: 'PartSend', value: 5, doc: "a collective's per-peer part, this rank -> peer (matrix only)" },
  { name: 'PartPull', value: 6, doc: "a collective's per-peer part, peer -> this rank (matrix only)" },
  {
    name: 'RecvDone',
    value: 7,
    doc: "a receive's completion: its source, the bytes that arrived, its tag (fn: the posting call or Sendrecv; not a call)",
  },
  {
    name: 'Placement',
    value: 8,
    doc: 'relocation agreement mark (PlacementMark in alg), bytes = epoch, cross_bytes = call index on the communicator',
  },
  {
    name: 'Done',
    value: 9,
    doc: "a request this -some/-all Wait/Test call completed: bytes = how many requests the rank posted after it (fn: the call's; not a call); a Wait, Test, Waitany or Testany says it in its own record's alg, plus one",
  },
];

/**
 * Collective families (core::Coll, in this order: the index is the family's number in the cost
 * model, the addon and FUNCTIONS[].coll). `site`: the name under which SITEMPI_COLL switches the
 * family's site-aware algorithms (native/shim/coll/); those families' C entry points go through the
 * dispatcher, the others call PMPI directly. `fns`: the MPI functions of the family that do (default:
 * the function named as the family).
 */
export const COLLS = [
  { name: 'None' },
  { name: 'Barrier', site: 'barrier' },
  { name: 'Bcast', site: 'bcast', fns: ['Bcast', 'Ibcast'] },
  { name: 'Gather', site: 'gather' },
  { name: 'Gatherv', site: 'gatherv' },
  { name: 'Scatter', site: 'scatter' },
  { name: 'Scatterv', site: 'scatterv' },
  { name: 'Allgather', site: 'allgather' },
  { name: 'Allgatherv', site: 'allgatherv' },
  { name: 'Alltoall', site: 'alltoall' },
  { name: 'Alltoallv', site: 'alltoallv' },
  { name: 'Alltoallw' },
  { name: 'Reduce', site: 'reduce' },
  { name: 'Allreduce', site: 'allreduce', fns: ['Allreduce', 'Iallreduce'] },
  { name: 'ReduceScatter', site: 'reduce_scatter', fns: ['Reduce_scatter'] },
  { name: 'ReduceScatterBlock', site: 'reduce_scatter_block', fns: ['Reduce_scatter_block'] },
  { name: 'Scan' },
  { name: 'Exscan' },
  { name: 'Neighbor' },
];
export const COLL_NAMES = COLLS.map((c) => c.name);

/** The `alg` of a Role Placement record: which mark (native/shim/coll/agreement.h). */
export const MARKS = [
  { name: 'Switch', value: 1, doc: 'from this call on, the communicator uses placement `bytes` (call 0: its first)' },
  { name: 'Seen', value: 2, doc: "this rank's mailbox held epoch `bytes` at this call (first seen on this comm)" },
];

/** The `alg` of an Irecv's Role Recv and Role RecvDone records (native/shim/requests.h). */
export const RECV_MARKS = [
  {
    name: 'Posted',
    value: 1,
    doc: 'Recv: an Irecv of the posted size, source and tag; a RecvDone Short follows if fewer arrive',
  },
  { name: 'Short', value: 2, doc: 'RecvDone: `bytes` fewer arrived than its Posted record said' },
];

/** A collective record's `alg` (core::Alg, native/core/cost_model.h): which algorithm ran the call. */
export const ALGS = [
  {
    name: 'Library',
    value: 0,
    doc: "the MPI library's own (the tuned rule's choice; coll/libnbc's schedule for a non-blocking call)",
  },
  {
    name: 'SiteLeaders',
    value: 1,
    doc: 'hierarchical: a site phase, the leaders (or the root) across sites, a site phase',
  },
  { name: 'SiteRsAg', value: 2, doc: 'Allreduce, 3+ sites, large: the leaders reduce-scatter and allgather' },
  {
    name: 'SitePairwise',
    value: 3,
    doc: "Alltoall(v): every block straight to its rank, the other sites' first; the reduce-scatters and Allgather: spread over the members, each block's partials straight to its rank; Allreduce: the members reduce-scatter in their site, swap their chunks' partials across sites and allgather; Reduce (sites across nodes, mid sizes): the members reduce-scatter in their site and send their chunks' partials to the root; Gather (sites across nodes): every block straight to the root",
  },
];

/** The Alltoall calibration (coll/alltoall_calibration.h), where the cost model is unsure of two
 * candidates: first both run untimed, in turn, this many times each (a size's first calls pay for
 * TCP warming to it, retransmission timeouts included), then each of the rounds times both in turn.
 * A communicator settles after ALLTOALL_CALIBRATION_CALLS calls of a size (bench/collectives warms
 * up so long). */
export const ALLTOALL_CALIBRATION_WARMUP = 2;
export const ALLTOALL_CALIBRATION_ROUNDS = 5;
export const ALLTOALL_CALIBRATION_CALLS = 2 * ALLTOALL_CALIBRATION_WARMUP + 2 * ALLTOALL_CALIBRATION_ROUNDS;

/** Hello.protocol: the wire protocol version both sides speak. */
export const PROTOCOL_VERSION = 1;
/** Largest frame body accepted or produced (the monitor rejects larger frames). */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** Open MPI 4.1's coll/libnbc: where its rules switch (size * count < 65536), and Ireduce's chain
 * fragment (its segsize 16384 / 2): native/core/nbc.cpp and src/replay/nbc.ts. */
export const NBC_LARGE_BYTES = 65536;
export const NBC_REDUCE_FRAGMENT_BYTES = 8192;

function check() {
  const distinct = (what, list) => {
    const names = new Set(list.map((x) => x.name));
    const values = new Set(list.map((x) => x.value));
    if (names.size !== list.length || values.size !== list.length) throw new Error(`facts.mjs: duplicate ${what}`);
  };
  distinct('role', ROLES);
  distinct('mark', MARKS);
  distinct('algorithm', ALGS);
  if (ROLES.some((r) => r.value >= 2 ** (32 - ROLE_SHIFT)))
    throw new Error('facts.mjs: a role does not fit above ROLE_SHIFT');
  if (new Set(COLL_NAMES).size !== COLLS.length || COLLS[0].name !== 'None')
    throw new Error('facts.mjs: collective families');
  if (COLLS.length > 32) throw new Error('facts.mjs: families are bits of a 32-bit mask');
}
check();

const cDoc = (doc) => doc.replace(/\*\//g, '* /');

/** build/generated/facts.h */
export function factsHeader() {
  const names = COLLS.map((c) => c.name);
  const colls = Array.from({ length: Math.ceil(names.length / 8) }, (_, i) =>
    names.slice(i * 8, i * 8 + 8).join(', '),
  ).join(',\n  ');
  const sites = COLLS.filter((c) => c.site).map((c) => `{"${c.site}", Coll::${c.name}}`);
  return `// Generated by native/shim/gen/generate.mjs from native/shim/gen/facts.mjs. Do not edit.
// The facts that the shim and the monitor (src/generated/facts.ts) share.
#pragma once
#include <cstdint>

namespace sitempi::core {

// Collective families (CollRecord.coll, the addon's family numbers).
enum class Coll : uint8_t {
  ${colls}
};

// The families with site-aware algorithms, by their SITEMPI_COLL names.
struct CollName {
  const char* name;
  Coll coll;
};
constexpr CollName kSiteAwareColls[] = {
${sites.map((s) => `    ${s},`).join('\n')}
};

// A collective record's alg: which algorithm ran the call.
enum Alg : uint32_t {
${ALGS.map((a) => `  kAlg${a.name} = ${a.value},  // ${cDoc(a.doc)}`).join('\n')}
};

// The Alltoall calibration (coll/alltoall_calibration.h): untimed calls of each candidate, then
// rounds each timing both; a size settles after kAlltoallCalibrationCalls calls.
constexpr int kAlltoallCalibrationWarmup = ${ALLTOALL_CALIBRATION_WARMUP};
constexpr int kAlltoallCalibrationRounds = ${ALLTOALL_CALIBRATION_ROUNDS};
constexpr int kAlltoallCalibrationCalls = ${ALLTOALL_CALIBRATION_CALLS};

}  // namespace sitempi::core

namespace sitempi::shim {

// Roles (high bits of Record.fn): how a record counts in the communication matrix.
enum Role : uint32_t {
${ROLES.map((r) => `  kRole${r.name} = ${r.value},  // ${cDoc(r.doc)}`).join('\n')}
};
constexpr uint32_t kRoleShift = ${ROLE_SHIFT};  // function ids stay below ${2 ** ROLE_SHIFT}

}  // namespace sitempi::shim

namespace sitempi::coll {

// The alg of a kRolePlacement record (coll/agreement.h).
enum PlacementMark : uint32_t {
${MARKS.map((m) => `  kMark${m.name} = ${m.value},  // ${cDoc(m.doc)}`).join('\n')}
};

}  // namespace sitempi::coll

namespace sitempi::shim {

// The alg of an Irecv's kRoleRecv and kRoleRecvDone records (requests.h).
enum RecvMark : uint32_t {
${RECV_MARKS.map((m) => `  kRecv${m.name} = ${m.value},  // ${cDoc(m.doc)}`).join('\n')}
};

}  // namespace sitempi::shim

namespace sitempi::wire {

constexpr uint32_t kProtocolVersion = ${PROTOCOL_VERSION};
constexpr uint32_t kMaxFrameBytes = ${MAX_FRAME_BYTES}u;  // the monitor rejects larger frames

}  // namespace sitempi::wire

namespace sitempi::core {

// Open MPI 4.1's coll/libnbc: where its rules switch (size * count < 65536), Ireduce's chain fragment.
constexpr uint64_t kNbcLargeBytes = ${NBC_LARGE_BYTES};
constexpr uint64_t kNbcReduceFragmentBytes = ${NBC_REDUCE_FRAGMENT_BYTES};

}  // namespace sitempi::core
`;
}

/** src/generated/facts.ts */
export function factsTs() {
  const obj = (list) => `{\n${list.map((x) => `  /** ${x.doc} */\n  ${x.name}: ${x.value},`).join('\n')}\n}`;
  return `// Generated by native/shim/gen/generate.mjs from native/shim/gen/facts.mjs. Do not edit.
// The facts that the monitor and the shim (build/generated/facts.h) share.

/** Batch.fn = function id | role << ROLE_SHIFT. */
export const ROLE_SHIFT = ${ROLE_SHIFT};
/** Roles (high bits of Batch.fn): how a record counts in the communication matrix. */
export const Role = ${obj(ROLES)} as const;
export type Role = (typeof Role)[keyof typeof Role];

/** Collective families in core::Coll order (index = the family's number). */
export const COLL_NAMES: readonly string[] = ${JSON.stringify(COLL_NAMES)};
/** The families with site-aware algorithms (each family's MPI function of the same name is covered). */
export const SITE_AWARE_COLLS: readonly string[] = ${JSON.stringify(COLLS.filter((c) => c.site).map((c) => c.name))};

/** A collective record's alg: which algorithm ran the call (core::Alg). */
export const Alg = ${obj(ALGS)} as const;
export type Alg = (typeof Alg)[keyof typeof Alg];
/** The Alltoall calibration: untimed calls of each candidate, in turn; then rounds, each timing
 * both; a size settles after ALLTOALL_CALIBRATION_CALLS calls. */
export const ALLTOALL_CALIBRATION_WARMUP = ${ALLTOALL_CALIBRATION_WARMUP};
export const ALLTOALL_CALIBRATION_ROUNDS = ${ALLTOALL_CALIBRATION_ROUNDS};
export const ALLTOALL_CALIBRATION_CALLS = ${ALLTOALL_CALIBRATION_CALLS};

/** The alg of a Role.Placement record. */
export const PlacementMark = ${obj(MARKS)} as const;
export type PlacementMark = (typeof PlacementMark)[keyof typeof PlacementMark];
/** The alg of an Irecv's Role.Recv and Role.RecvDone records. */
export const RecvMark = ${obj(RECV_MARKS)} as const;

/** Hello.protocol: the wire protocol version both sides speak. */
export const PROTOCOL_VERSION = ${PROTOCOL_VERSION};
/** Largest frame body accepted or produced (the shim's kMaxFrameBytes, the addon's maxFrameBytes). */
export const MAX_FRAME_BYTES = ${MAX_FRAME_BYTES};

/** Open MPI 4.1's coll/libnbc: where its rules switch, and Ireduce's chain fragment (native/core/nbc.cpp). */
export const NBC_LARGE_BYTES = ${NBC_LARGE_BYTES};
export const NBC_REDUCE_FRAGMENT_BYTES = ${NBC_REDUCE_FRAGMENT_BYTES};
`;
}
