// Recording rules, one per kind of native/shim/mpi_functions.txt. Each rule returns C++ snippets
// written against a flavor `f` (C or Fortran entry point), so that both entry points of a
// function share one rule:
//   pre     statements before the MPI call
//   args    replacements for call arguments, by parameter name
//   post    statements after the call (`call_` is the sitempi::shim::Call of this call)
// f.v(name) is the C value of a parameter (for pointer outputs, what it points to, read after the
// call); f.el(name, i) is element i of a handle array; f.buf(name) a buffer address with the
// Fortran sentinels mapped to C's; f.statuses(name, n, need) declares `sts_` (statuses we can read
// even when the application passed MPI_STATUS(ES)_IGNORE, when `need` holds) and returns the
// argument to pass; f.index(expr) maps an index returned by MPI to 0-based.
import { COLLS } from './facts.mjs';

const role = (r) => `sitempi::shim::kRole${r}`;
const firstComm = (p) => p.find((x) => x.type === 'MPI_Comm');
const lastNewComm = (p) => [...p].reverse().find((x) => x.type === 'MPI_Comm *');

function p2p(r, comm, peer, count, type, tag) {
  return (f) => ({
    post: `call_.p2p(${role(r)}, ${f.v(comm)}, ${f.v(peer)}, ${f.v(count)}, ${f.v(type)}, sitempi::shim::send_tag(${f.v(tag)}));`,
  });
}

// Sendrecv: the send, then the receive half from the status (read even when the application
// ignores it) as a RecvDone record: its source, the bytes that arrived and their tag.
function sendrecv(count, type, recvCount, recvType) {
  return (f) => ({
    args: { status: f.statuses('status', '1', 'true') },
    post: `${p2p('Send', 'comm', 'dest', count, type, 'sendtag')(f).post}
  MPI_Status st_;
  if (rc_ == MPI_SUCCESS && sts_.get(0, st_)) sitempi::shim::recv_completed(call_, ${f.v('comm')}, st_, ${f.v(recvCount)}, ${f.v(recvType)});`,
  });
}

// Collectives: bytes is an expression; root a parameter name or null.
// `out_`: the algorithm that ran and its cross-site traffic, set by the site-aware collectives;
// declared by the wrapper (generate.mjs: a constant empty one where the library's algorithm ran).
function coll(bytes, root = null, extra = () => '') {
  return (f, p, name) => ({
    pre: `MPI_Comm comm_ = ${f.v('comm')};`,
    post: `${extra(f, p, name)}call_.coll(comm_, ${root ? f.v(root) : '-1'}, ${bytes(f, p)}, out_.alg, out_.cross_msgs, out_.cross_bytes);`,
  });
}
const me = 'sitempi::shim::comm_rank(comm_)';
const tb = (type, count) => `sitempi::shim::type_bytes(${type}, ${count})`;
const inPlace = (f, name) => `${f.buf(name)} == MPI_IN_PLACE`;
// This rank's own block, or the receive block when the send buffer is MPI_IN_PLACE.
const ownBlock = (f, recvCount) =>
  `(${inPlace(f, 'sendbuf')} ? ${tb(f.v('recvtype'), recvCount)} : ${tb(f.v('sendtype'), f.v('sendcount'))})`;

// Per-peer parts of v/w all-to-all: the primary record carries the total. The arrays have one
// entry per peer (native/shim/peers.h): per remote rank on an intercommunicator, where MPI_IN_PLACE
// is not allowed and no entry is this rank's own. Zero counts are zero bytes: their datatypes are
// never looked at (type_bytes). A call that failed moved nothing: its arrays may not even exist.
function alltoallvParts(typeAt) {
  return (f) => `uint64_t total_ = 0;
  if (rc_ == MPI_SUCCESS) {
    const sitempi::shim::Peers peers_ = sitempi::shim::collective_peers(comm_);
    const bool inplace_ = peers_.self >= 0 && ${inPlace(f, 'sendbuf')};
    const int* counts_ = inplace_ ? ${f.v('recvcounts')} : ${f.v('sendcounts')};
    for (int j = 0; j < peers_.n; ++j) {
      const uint64_t b_ = sitempi::shim::type_bytes(${typeAt(f)}, counts_[j]);
      total_ += b_;
      if (j != peers_.self) call_.part(sitempi::shim::kRolePartSend, comm_, j, b_);
    }
  }
  `;
}

// Neighbourhood collectives: one block per out-neighbour of the topology, in the order of the send
// arrays (native/shim/peers.h); the primary record carries this rank's send volume, the parts its
// destinations. Blocks to MPI_PROC_NULL move nothing; a call that failed moved nothing.
function neighbourParts(f, p) {
  const has = (n) => p.some((x) => x.name === n);
  const count = has('sendcounts') ? `${f.v('sendcounts')}[j]` : f.v('sendcount');
  const type = has('sendtypes') ? f.el('sendtypes', 'j') : f.v('sendtype');
  return `uint64_t total_ = 0;
  if (rc_ == MPI_SUCCESS) {
    std::vector<int> to_;
    sitempi::shim::out_neighbours(comm_, to_);
    for (int j = 0; j < int(to_.size()); ++j) {
      if (to_[size_t(j)] == MPI_PROC_NULL) continue;
      const uint64_t b_ = sitempi::shim::type_bytes(${type}, ${count});
      total_ += b_;
      call_.part(sitempi::shim::kRolePartSend, comm_, to_[size_t(j)], b_);
    }
  }
  `;
}

export const kinds = {
  send: p2p('Send', 'comm', 'dest', 'count', 'datatype', 'tag'),
  // Followed to its completion (requests.h): which Wait completed it.
  isend: (f) => ({
    post: `${p2p('Send', 'comm', 'dest', 'count', 'datatype', 'tag')(f).post}
  sitempi::shim::posted_send(rc_, ${f.v('request')}, ${f.v('dest')});`,
  }),
  sendrecv: sendrecv('sendcount', 'sendtype', 'recvcount', 'recvtype'),
  sendrecv_replace: sendrecv('count', 'datatype', 'count', 'datatype'),
  // The bytes received and their tag, from the status (the posted count is only an upper bound);
  // the status is read even when the application ignores it.
  recv: (f) => ({
    pre: `const bool any_ = ${f.v('source')} == MPI_ANY_SOURCE;`,
    args: { status: f.statuses('status', '1', 'true') },
    post: `MPI_Status st_;
  const bool got_ = rc_ == MPI_SUCCESS && sts_.get(0, st_);
  const int src_ = any_ && got_ ? st_.MPI_SOURCE : ${f.v('source')};
  call_.p2p_bytes(sitempi::shim::kRoleRecv, ${f.v('comm')}, src_, got_ ? sitempi::shim::received_bytes(st_, ${f.v('count')}, ${f.v('datatype')}) : sitempi::shim::type_bytes(${f.v('datatype')}, ${f.v('count')}), got_ ? sitempi::shim::status_tag(st_) : sitempi::shim::send_tag(${f.v('tag')}));`,
  }),
  // Followed to completion (requests.h): a record there only when the status says more than the
  // posting record did (fewer bytes, the source or tag of a wildcard).
  irecv: (f) => ({
    post: `sitempi::shim::posted_recv(call_, rc_, ${f.v('request')}, ${f.v('comm')}, ${f.v('source')}, ${f.v('tag')}, ${f.v('count')}, ${f.v('datatype')});`,
  }),
  psend_init: (f) => ({
    post: `call_.other(${f.v('comm')});
  sitempi::shim::track_request(${f.v('request')}, call_.fn(), true, true, ${f.v('comm')}, ${f.v('dest')}, ${f.v('count')}, ${f.v('datatype')});`,
  }),
  precv_init: (f) => ({
    post: `call_.other(${f.v('comm')});
  sitempi::shim::track_request(${f.v('request')}, call_.fn(), true, false, ${f.v('comm')}, ${f.v('source')}, ${f.v('count')}, ${f.v('datatype')});`,
  }),
  start: () => ({
    pre: `sitempi::shim::Snapshot snap_(1, request);`,
    post: `call_.other();
  snap_.started(call_);`,
  }),
  startall: (f) => ({
    pre: `sitempi::shim::Snapshot snap_(${f.v('count')}, array_of_requests);`,
    post: `call_.other();
  snap_.started(call_);`,
  }),
  // Probes: the peer is the matched source.
  probe: (f) => ({
    args: { status: f.statuses('status', '1', 'true') },
    post: `MPI_Status st_;
  call_.other(${f.v('comm')}, sitempi::shim::comm_world_rank(${f.v('comm')}, sts_.get(0, st_) ? st_.MPI_SOURCE : ${f.v('source')}));`,
  }),
  iprobe: (f) => ({
    args: { status: f.statuses('status', '1', 'true') },
    post: `MPI_Status st_;
  call_.other(${f.v('comm')}, ${f.v('flag')} && sts_.get(0, st_) ? sitempi::shim::comm_world_rank(${f.v('comm')}, st_.MPI_SOURCE) : -1);`,
  }),
  // Matched receives: the message's communicator is not visible, so no peer (documented); the
  // bytes that arrived from the status.
  mrecv: (f) => ({
    args: { status: f.statuses('status', '1', 'true') },
    post: `MPI_Status st_;
  const bool got_ = rc_ == MPI_SUCCESS && sts_.get(0, st_);
  call_.p2p_bytes(sitempi::shim::kRoleRecv, MPI_COMM_NULL, -1, got_ ? sitempi::shim::received_bytes(st_, ${f.v('count')}, ${f.v('datatype')}) : sitempi::shim::type_bytes(${f.v('datatype')}, ${f.v('count')}), got_ ? sitempi::shim::status_tag(st_) : 0);`,
  }),
  imrecv: (f) => ({
    post: `sitempi::shim::posted_recv(call_, rc_, ${f.v('request')}, MPI_COMM_NULL, MPI_ANY_SOURCE, MPI_ANY_TAG, ${f.v('count')}, ${f.v('datatype')});`,
  }),
  // Completion: time counts as MPI time; tracked requests that completed emit their records.
  wait: (f, p) => {
    const hasFlag = p.some((x) => x.name === 'flag');
    return {
      pre: `sitempi::shim::Snapshot snap_(1, request);`,
      args: { status: f.statuses('status', '1', 'snap_.need_status()') },
      // the call's record names the request it completed (requests.h)
      post: `if (!(${hasFlag ? `${f.v('flag')} && ` : ''}rc_ == MPI_SUCCESS && snap_.any() && snap_.completed_one(call_, 0, sts_)))
    call_.other();`,
    };
  },
  waitall: (f, p) => {
    const hasFlag = p.some((x) => x.name === 'flag');
    return {
      pre: `sitempi::shim::Snapshot snap_(${f.v('count')}, array_of_requests);`,
      args: { array_of_statuses: f.statuses('array_of_statuses', f.v('count'), 'snap_.need_status()') },
      post: `call_.other();
  if (${hasFlag ? `${f.v('flag')} && ` : ''}rc_ == MPI_SUCCESS) snap_.completed_all(call_, sts_, ${!hasFlag});`,
    };
  },
  waitany: (f, p) => {
    const hasFlag = p.some((x) => x.name === 'flag');
    return {
      pre: `sitempi::shim::Snapshot snap_(sitempi::shim::Snapshot::Any{}, ${f.v('count')}, array_of_requests);`,
      args: { status: f.statuses('status', '1', 'snap_.need_status()') },
      post: `if (!(${hasFlag ? `${f.v('flag')} && ` : ''}rc_ == MPI_SUCCESS && ${f.v('index')} != MPI_UNDEFINED && snap_.maybe_any() && snap_.completed_any(call_, ${f.index(f.v('index'))}, sts_)))
    call_.other();`,
    };
  },
  waitsome: (f) => ({
    pre: `sitempi::shim::Snapshot snap_(${f.v('incount')}, array_of_requests);`,
    args: { array_of_statuses: f.statuses('array_of_statuses', f.v('incount'), 'snap_.need_status()') },
    post: `call_.other();
  if (rc_ == MPI_SUCCESS && ${f.v('outcount')} != MPI_UNDEFINED)
    for (int i = 0; i < ${f.v('outcount')}; ++i) snap_.completed(call_, ${f.index(`${f.v('array_of_indices')}[i]`)}, sts_, i);`,
  }),
  request_free: () => ({
    pre: `sitempi::shim::Snapshot snap_(1, request);`,
    post: `call_.other();
  snap_.freed();`,
  }),
  other: (f, p) => {
    const c = firstComm(p);
    return { post: `call_.other(${c ? f.v(c.name) : ''});` };
  },
  type_free: () => ({
    post: `call_.other();
  sitempi::shim::type_cache_invalidate();`,
  }),

  barrier: coll(() => '0'),
  bcast: coll((f) => tb(f.v('datatype'), f.v('count')), 'root'),
  gather: coll((f) => ownBlock(f, f.v('recvcount')), 'root'),
  gatherv: coll(
    (f) =>
      `(${inPlace(f, 'sendbuf')} ? ${tb(f.v('recvtype'), `${f.v('recvcounts')}[${me}]`)} : ${tb(f.v('sendtype'), f.v('sendcount'))})`,
    'root',
  ),
  scatter: coll(
    (f) =>
      `(${f.buf('recvbuf')} == MPI_IN_PLACE ? ${tb(f.v('sendtype'), f.v('sendcount'))} : ${tb(f.v('recvtype'), f.v('recvcount'))})`,
    'root',
  ),
  scatterv: coll(
    (f) =>
      `(${f.buf('recvbuf')} == MPI_IN_PLACE ? ${tb(f.v('sendtype'), `${f.v('sendcounts')}[${me}]`)} : ${tb(f.v('recvtype'), f.v('recvcount'))})`,
    'root',
  ),
  allgather: coll((f) => ownBlock(f, f.v('recvcount'))),
  allgatherv: coll((f) => ownBlock(f, `${f.v('recvcounts')}[${me}]`)),
  alltoall: coll((f) => ownBlock(f, f.v('recvcount'))),
  alltoallv: coll(
    () => 'total_',
    null,
    alltoallvParts((f) => `inplace_ ? ${f.v('recvtype')} : ${f.v('sendtype')}`),
  ),
  alltoallw: coll(
    () => 'total_',
    null,
    alltoallvParts((f) => `inplace_ ? ${f.el('recvtypes', 'j')} : ${f.el('sendtypes', 'j')}`),
  ),
  reduce: coll((f) => tb(f.v('datatype'), f.v('count')), 'root'),
  allreduce: coll((f) => tb(f.v('datatype'), f.v('count'))),
  scan: coll((f) => tb(f.v('datatype'), f.v('count'))),
  exscan: coll((f) => tb(f.v('datatype'), f.v('count'))),
  reduce_scatter_block: coll((f) => tb(f.v('datatype'), f.v('recvcount'))),
  // Non-blocking, run by the library (libnbc): modelled as a reduce of the whole vector to rank 0
  // and a scatter from it, this rank's block arriving as a part. Blocking: coll/tuned's algorithm
  // (native/core/tuned_vector.cpp); site-aware: the cost model's schedule (no part either).
  reduce_scatter: coll(
    () => 'total_',
    null,
    (f, p, name) => `uint64_t total_ = 0;
  {
    const int n_ = sitempi::shim::comm_size(comm_);
    for (int j = 0; j < n_; ++j) total_ += ${tb(f.v('datatype'), `${f.v('recvcounts')}[j]`)};${
      name.startsWith('I')
        ? `
    const int me_ = ${me};
    if (me_ != 0 && out_.alg == 0) call_.part(sitempi::shim::kRolePartPull, comm_, 0, ${tb(f.v('datatype'), `${f.v('recvcounts')}[me_]`)});`
        : ''
    }
  }
  `,
  ),
  neighbor: coll(() => 'total_', null, neighbourParts),

  rma_put: (f) => ({
    post: `call_.rma(sitempi::shim::kRoleSend, ${f.v('win')}, ${f.v('target_rank')}, ${f.v('origin_count')}, ${f.v('origin_datatype')});`,
  }),
  rma_get: (f) => ({
    post: `call_.rma(sitempi::shim::kRolePull, ${f.v('win')}, ${f.v('target_rank')}, ${f.v('origin_count')}, ${f.v('origin_datatype')});`,
  }),
  rma_getacc: (f) => ({
    post: `call_.rma(sitempi::shim::kRoleSend, ${f.v('win')}, ${f.v('target_rank')}, ${f.v('origin_count')}, ${f.v('origin_datatype')});`,
  }),
  rma_fetch: (f) => ({
    post: `call_.rma(sitempi::shim::kRoleSend, ${f.v('win')}, ${f.v('target_rank')}, 1, ${f.v('datatype')});`,
  }),
  rma_cas: (f) => ({
    post: `call_.rma(sitempi::shim::kRoleSend, ${f.v('win')}, ${f.v('target_rank')}, 1, ${f.v('datatype')});`,
  }),
  win_create: (f) => ({
    post: `if (rc_ == MPI_SUCCESS) sitempi::shim::win_created(${f.v('comm')}, ${f.v('win')});
  call_.other(${f.v('comm')});`,
  }),
  win_free: (f) => ({
    pre: `const uint32_t id_ = sitempi::shim::win_local_id(${f.v('win')});`,
    post: `call_.other_id(id_);`,
  }),
  win_sync: (f, p) => ({
    post: `call_.win(${f.v('win')}${p.some((x) => x.name === 'rank') ? `, ${f.v('rank')}` : ''});`,
  }),

  comm_new: (f, p) => {
    const parent = firstComm(p).name,
      child = lastNewComm(p).name;
    return {
      post: `if (rc_ == MPI_SUCCESS) sitempi::shim::comm_created(${f.v(parent)}, ${f.v(child)});
  call_.other(${f.v(parent)});`,
    };
  },
  // Collective over the group only: the tag, not the parent's creation count, tells them apart.
  comm_create_group: (f) => ({
    post: `if (rc_ == MPI_SUCCESS) sitempi::shim::comm_created(${f.v('comm')}, ${f.v('newcomm')}, 0x6700000000ull + unsigned(${f.v('tag')}));
  call_.other(${f.v('comm')});`,
  }),
  intercomm_create: (f) => ({
    post: `if (rc_ == MPI_SUCCESS) sitempi::shim::comm_created(${f.v('local_comm')}, ${f.v('newintercomm')}, 0x1C00000000ull + unsigned(${f.v('tag')}));
  call_.other(${f.v('local_comm')});`,
  }),
  // The new communicator is valid only at completion: count the creation, describe it lazily.
  comm_idup: (f) => ({
    post: `if (rc_ == MPI_SUCCESS) sitempi::shim::comm_created(${f.v('comm')}, MPI_COMM_NULL);
  call_.other(${f.v('comm')});`,
  }),
  comm_free: (f) => ({
    pre: `const uint32_t id_ = sitempi::shim::comm_local_id(${f.v('comm')});`,
    post: `call_.other_id(id_);`,
  }),
};

// Collectives whose C entry points go through the site-aware dispatcher
// (sitempi::coll::<Name>(args..., &out_), native/shim/coll/): the functions of the families that
// have site-aware algorithms (facts.mjs, `fns`, default the function of the family's name); the
// rest call PMPI directly.
export const ADAPTIVE = new Set(COLLS.filter((c) => c.site).flatMap((c) => c.fns ?? [c.name]));

// Collective family (facts.mjs, COLLS) of each kind.
export const collOfKind = {
  barrier: 'Barrier',
  bcast: 'Bcast',
  gather: 'Gather',
  gatherv: 'Gatherv',
  scatter: 'Scatter',
  scatterv: 'Scatterv',
  allgather: 'Allgather',
  allgatherv: 'Allgatherv',
  alltoall: 'Alltoall',
  alltoallv: 'Alltoallv',
  alltoallw: 'Alltoallw',
  reduce: 'Reduce',
  allreduce: 'Allreduce',
  reduce_scatter: 'ReduceScatter',
  reduce_scatter_block: 'ReduceScatterBlock',
  scan: 'Scan',
  exscan: 'Exscan',
  neighbor: 'Neighbor',
};
