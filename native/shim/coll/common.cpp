#include "coll/common.h"

#include "coll/handoff.h"

#include <algorithm>
#include <climits>

namespace sitempi::coll {

int pack(const void* buf, int count, MPI_Datatype t, char* out, int outsize, int offset, MPI_Comm comm) {
  if (count <= 0) return MPI_SUCCESS;
  int pos = offset;
  return PMPI_Pack(buf, count, t, out, outsize, &pos, comm);
}

int unpack(const char* in, int insize, int offset, void* buf, int count, MPI_Datatype t, MPI_Comm comm) {
  if (count <= 0) return MPI_SUCCESS;
  int pos = offset;
  return PMPI_Unpack(in, insize, &pos, buf, count, t, comm);
}

int unpack_blocks(const char* in, int insize, const SiteLayout& lay, void* recvbuf, const int* rcounts,
                  const int* displs, MPI_Datatype recvtype, int skip, MPI_Comm comm) {
  const TypeInfo rt(recvtype);
  for (int j = 0; j < int(lay.pos.size()); ++j) {
    if (j == skip) continue;
    SITEMPI_RC(
        unpack(in, insize, int(lay.pos[size_t(j)]), at(recvbuf, displs[j], rt.extent), rcounts[j], recvtype, comm));
  }
  return MPI_SUCCESS;
}

int copy_typed(const void* src, void* dst, int count, MPI_Datatype t, MPI_Comm comm) {
  if (count <= 0 || src == dst) return MPI_SUCCESS;
  const TypeInfo ti(t);
  if (ti.contiguous()) {  // one copy
    std::copy_n(static_cast<const char*>(src) + ti.true_lb, size_t(ti.size) * size_t(count),
                static_cast<char*>(dst) + ti.true_lb);
    return MPI_SUCCESS;
  }
  const int n = int(ti.bytes(count));
  Scratch tmp(static_cast<size_t>(n));
  SITEMPI_RC(pack(src, count, t, tmp.data(), n, 0, comm));
  return unpack(tmp.data(), n, 0, dst, count, t, comm);
}

int Ctx::isend_cross(const void* buf, int count, MPI_Datatype t, int peer, int tag, MPI_Comm comm, bool continues) {
  const TypeInfo ti(t);
  const uint64_t bytes = ti.bytes(count);
  out_->cross_msgs += continues ? 0 : 1;
  out_->cross_bytes += bytes;
  // Up to INT_MAX bytes: what MPI_Pack can stage (the same bound on both sides).
  if (!g_chunk_bytes || bytes <= g_chunk_bytes || bytes > uint64_t(INT_MAX)) {
    if (!paced_.on()) return PMPI_Isend(buf, count, t, peer, tag, comm, push());
    paced_.hold(buf, count, t, bytes, peer, tag, comm);
    return MPI_SUCCESS;
  }
  if (ti.contiguous())
    return pieces(const_cast<char*>(static_cast<const char*>(buf)) + ti.true_lb, bytes, true, peer, tag, comm);
  staged_.push_back(Staged{Scratch(bytes), nullptr, 0, t});
  SITEMPI_RC(pack(buf, count, t, staged_.back().bytes.data(), int(bytes), 0, c_.priv));
  return pieces(staged_.back().bytes.data(), bytes, true, peer, tag, comm);
}

int Ctx::irecv_cross(void* buf, int count, MPI_Datatype t, int peer, int tag, MPI_Comm comm) {
  const TypeInfo ti(t);
  const uint64_t bytes = ti.bytes(count);
  if (!g_chunk_bytes || bytes <= g_chunk_bytes || bytes > uint64_t(INT_MAX))
    return PMPI_Irecv(buf, count, t, peer, tag, comm, push());
  if (ti.contiguous()) return pieces(static_cast<char*>(buf) + ti.true_lb, bytes, false, peer, tag, comm);
  staged_.push_back(Staged{Scratch(bytes), buf, count, t});
  return pieces(staged_.back().bytes.data(), bytes, false, peer, tag, comm);
}

int Ctx::pieces(char* data, uint64_t bytes, bool send, int peer, int tag, MPI_Comm comm) {
  for (uint64_t off = 0; off < bytes; off += g_chunk_bytes) {
    const int n = int(std::min(g_chunk_bytes, bytes - off));
    if (send && paced_.on())
      paced_.hold(data + off, n, MPI_BYTE, uint64_t(n), peer, tag, comm);
    else
      SITEMPI_RC(send ? PMPI_Isend(data + off, n, MPI_BYTE, peer, tag, comm, push())
                      : PMPI_Irecv(data + off, n, MPI_BYTE, peer, tag, comm, push()));
  }
  return MPI_SUCCESS;
}

int Ctx::wait(size_t from, size_t to) {
  if (to <= from) return MPI_SUCCESS;
  // Sends paced at a rate leave while this waits (their requests join the call's).
  while (paced_.timed() && !paced_.empty()) {
    SITEMPI_RC(paced_.release_due(reqs_));
    int done = 0;
    SITEMPI_RC(PMPI_Testall(int(to - from), reqs_.data() + from, &done, MPI_STATUSES_IGNORE));
    if (done) return MPI_SUCCESS;
  }
  return PMPI_Waitall(int(to - from), reqs_.data() + from, MPI_STATUSES_IGNORE);
}

int Ctx::release_timed() {
  while (!paced_.empty()) {
    SITEMPI_RC(paced_.release_due(reqs_));
    int done = 0;  // MPI's progress meanwhile, for the call's other requests
    SITEMPI_RC(PMPI_Testall(int(reqs_.size()), reqs_.data(), &done, MPI_STATUSES_IGNORE));
    if (done) yield_core();  // nothing to progress until the next piece is due
  }
  return MPI_SUCCESS;
}

int Ctx::waitall() {
  // The receives and unpaced sends progress meanwhile.
  int rc = paced_.timed() ? release_timed() : paced_.drain();
  if (rc == MPI_SUCCESS && !reqs_.empty()) rc = PMPI_Waitall(int(reqs_.size()), reqs_.data(), MPI_STATUSES_IGNORE);
  reqs_.clear();
  for (Staged& st : staged_)
    if (rc == MPI_SUCCESS && st.buf)
      rc = unpack(st.bytes.data(), int(st.bytes.size()), 0, st.buf, st.count, st.type, c_.priv);
  staged_.clear();
  return rc;
}

int Ctx::test(bool* done) {
  int flag = 1;
  *done = false;
  if (!paced_.empty()) {  // not used by the non-blocking chains: blocks
    *done = true;
    return waitall();
  }
  if (!reqs_.empty()) SITEMPI_RC(PMPI_Testall(int(reqs_.size()), reqs_.data(), &flag, MPI_STATUSES_IGNORE));
  if (!flag) return MPI_SUCCESS;
  *done = true;
  return waitall();  // nothing left to wait for: clears and unpacks
}

int post_chunk_parts(Ctx& x, const SiteChunk& mine, MPI_Datatype t, int tag, std::vector<TypedBuf>& contrib,
                     std::vector<size_t>& marks) {
  const core::Grouping& g = x.g();
  const int s = x.site(), n = g.count(s), k = g.local_rank[size_t(x.me())], K = mine.seg.n;
  const TypeInfo ti(t);
  contrib.resize(static_cast<size_t>(n));
  marks.assign(static_cast<size_t>(K) + 1, 0);
  for (int i = 0; i < n; ++i)
    if (i != k) contrib[size_t(i)].reset(mine.len, ti);
  for (int q = 0; q < K; ++q) {
    marks[size_t(q)] = x.posted();
    for (int i = 0; i < n && mine.len; ++i)
      if (i != k)
        SITEMPI_RC(
            x.irecv(at(contrib[size_t(i)].get(), mine.seg.first(q), ti.extent), mine.seg.size(q), t, g.of(s)[i], tag));
  }
  marks[size_t(K)] = x.posted();
  return MPI_SUCCESS;
}

int send_chunk_parts(Ctx& x, const void* input, int count, MPI_Datatype t, bool cuttable, int tag) {
  const core::Grouping& g = x.g();
  const int s = x.site(), n = g.count(s), k = g.local_rank[size_t(x.me())];
  const TypeInfo ti(t);
  for (int i = 0; i < n; ++i) {
    const SiteChunk theirs(count, n, i, ti.size, cuttable);
    for (int q = 0; q < theirs.seg.n && theirs.len && i != k; ++q)
      SITEMPI_RC(x.isend(at(input, theirs.first(q), ti.extent), theirs.seg.size(q), t, g.of(s)[i], tag));
  }
  return MPI_SUCCESS;
}

int fold_ordered(std::vector<void*>& parts, int own, int count, MPI_Datatype t, MPI_Op op, MPI_Comm comm) {
  const int n = int(parts.size());
  if (n <= 1 || count <= 0) return MPI_SUCCESS;
  // Right to left: acc = p[n-1]; acc = p[k] op acc. MPI_Reduce_local(in, inout): inout = in op inout.
  void* acc = parts[size_t(n - 1)];
  for (int k = n - 2; k >= 0; --k) SITEMPI_RC(PMPI_Reduce_local(parts[size_t(k)], acc, count, t, op));
  if (own != n - 1) return copy_typed(acc, parts[size_t(own)], count, t, comm);
  return MPI_SUCCESS;
}

int fold_at_root(std::vector<void*>& parts, int own, int count, MPI_Datatype t, MPI_Op op, bool commutative,
                 MPI_Comm comm) {
  if (!commutative) return fold_ordered(parts, own, count, t, op, comm);
  for (size_t u = 0; u < parts.size() && count > 0; ++u)
    if (int(u) != own) SITEMPI_RC(PMPI_Reduce_local(parts[u], parts[size_t(own)], count, t, op));
  return MPI_SUCCESS;
}

}  // namespace sitempi::coll
