// What the site-aware algorithms share: point-to-point over the cache's private communicators
// with the cross-site count, datatype-true buffers, pack/unpack, the ordered fold of reductions.
// Everything here calls PMPI only.
#pragma once
#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "coll/cache.h"
#include "coll/dispatch.h"
#include "coll/layout.h"
#include "coll/paced.h"
#include "coll/scratch.h"
#include "coll/segments.h"
#include "core/cost_model.h"

namespace sitempi::coll {

#define SITEMPI_RC(expr)                  \
  do {                                    \
    const int rc__ = (expr);              \
    if (rc__ != MPI_SUCCESS) return rc__; \
  } while (0)

// Tags on the private communicators (each collective's messages are all received in the call, and
// MPI keeps point-to-point order, so one tag per collective is enough).
enum Tag : int {
  kTagBarrier = 101,
  kTagBcast,
  kTagReduce,
  kTagAllreduce,
  kTagGather,
  kTagScatter,
  kTagAllgather,
  kTagAlltoall,
  kTagReduceScatter,
  kTagNonblocking = 1024  // + the call's sequence number on the communicator (coll/nonblocking.h)
};

struct TypeInfo {
  int size = 0;
  MPI_Aint lb = 0, extent = 0, true_lb = 0, true_extent = 0;
  explicit TypeInfo(MPI_Datatype t) {
    PMPI_Type_size(t, &size);
    PMPI_Type_get_extent(t, &lb, &extent);
    PMPI_Type_get_true_extent(t, &true_lb, &true_extent);
  }
  uint64_t bytes(int64_t count) const { return count > 0 ? uint64_t(size) * uint64_t(count) : 0; }
  // Elements fill their extent with data: `count` of them are one run of bytes from buf + true_lb.
  bool contiguous() const { return size == true_extent && size == extent; }
};

// Element k of a typed buffer.
inline void* at(void* buf, MPI_Aint k, MPI_Aint extent) { return static_cast<char*>(buf) + k * extent; }
inline const void* at(const void* buf, MPI_Aint k, MPI_Aint extent) {
  return static_cast<const char*>(buf) + k * extent;
}

// Room for `count` elements of a datatype, addressed as MPI does (true lower bound, true extent).
class TypedBuf {
 public:
  TypedBuf() = default;
  TypedBuf(int count, const TypeInfo& t) { reset(count, t); }
  void reset(int count, const TypeInfo& t) {
    const MPI_Aint span = count > 0 ? t.true_extent + MPI_Aint(count - 1) * t.extent : 0;
    mem_.reset(size_t(span > 0 ? span : 0));
    ptr_ = mem_.data() - t.true_lb;
  }
  void* get() { return ptr_; }

 private:
  Scratch mem_;
  char* ptr_ = nullptr;
};

// Point-to-point inside one call, counting what this rank sends to other sites.
class Ctx {
 public:
  Ctx(SiteCache& c, Outcome* out) : c_(c), out_(out) {}
  SiteCache& c() { return c_; }
  const core::Grouping& g() const { return c_.g; }
  int me() const { return c_.me; }
  int site() const { return c_.site(); }

  // On the private duplicate, by comm rank. `continues`: a later segment of a message already
  // counted (coll/segments.h): its bytes count, not as another message.
  int isend(const void* buf, int count, MPI_Datatype t, int dst, int tag, bool continues = false) {
    if (c_.g.site[size_t(dst)] == site()) return PMPI_Isend(buf, count, t, dst, tag, c_.priv, push());
    return isend_cross(buf, count, t, dst, tag, c_.priv, continues);
  }
  int irecv(void* buf, int count, MPI_Datatype t, int src, int tag) {
    if (c_.g.site[size_t(src)] == site()) return PMPI_Irecv(buf, count, t, src, tag, c_.priv, push());
    return irecv_cross(buf, count, t, src, tag, c_.priv);
  }
  // On the leaders communicator, by compact site index (leaders only; always another site).
  int isend_site(const void* buf, int count, MPI_Datatype t, int site, int tag, bool continues = false) {
    return isend_cross(buf, count, t, site, tag, c_.leaders, continues);
  }
  int irecv_site(void* buf, int count, MPI_Datatype t, int site, int tag) {
    return irecv_cross(buf, count, t, site, tag, c_.leaders);
  }
  // Cross-site sends from here on are held and paced (coll/paced.h) at most `bytes` unmatched at
  // a time, released by waitall(); 0: posted at once. Blocking algorithms only.
  void pace(uint64_t bytes) { paced_.set_window(bytes); }
  // Or released at a rate (coll/paced.h), from wait() and waitall().
  void pace(const core::RatePace& p) { paced_.set_rate(p.rate_Bps, p.burst_bytes); }
  // Completes every request of the call so far (and unpacks what arrived in pieces).
  int waitall();
  // waitall() without blocking: *done when every request has completed (and staged data is unpacked).
  int test(bool* done);
  // Requests posted so far; wait(from, to) completes those posted between two such marks. Only
  // for contiguous data: staged (non-contiguous) data arriving in pieces is unpacked by waitall().
  size_t posted() const { return reqs_.size(); }
  int wait(size_t from, size_t to);
  // Posts the sends paced at a rate whose time has come, without waiting (between blocking steps).
  int release_due() { return paced_.timed() ? paced_.release_due(reqs_) : MPI_SUCCESS; }

 private:
  MPI_Request* push() {
    reqs_.push_back(MPI_REQUEST_NULL);
    return &reqs_.back();
  }
  // A message to or from another site. Above g_chunk_bytes it travels as pieces of at most that
  // many bytes (MPI_BYTE; non-contiguous data packed first): each piece goes eagerly, where one
  // large message would wait a WAN round trip for the rendezvous. Both sides split alike: they
  // see the same byte count (MPI's type signature rule) and the same g_chunk_bytes. Counted as
  // one message.
  int isend_cross(const void* buf, int count, MPI_Datatype t, int peer, int tag, MPI_Comm comm, bool continues);
  int irecv_cross(void* buf, int count, MPI_Datatype t, int peer, int tag, MPI_Comm comm);
  int pieces(char* data, uint64_t bytes, bool send, int peer, int tag, MPI_Comm comm);
  int release_timed();  // every send paced at a rate, released at its time

  struct Staged {  // non-contiguous data travelling in pieces: packed here, unpacked at waitall
    Scratch bytes;
    void* buf;  // receive side: where it goes; nullptr for a send
    int count;
    MPI_Datatype type;
  };
  SiteCache& c_;
  Outcome* out_;
  std::vector<MPI_Request> reqs_;
  std::vector<Staged> staged_;
  PacedSends paced_;
};

// Packed blocks (MPI_PACKED; for a homogeneous job the packed size is count * type size).
int pack(const void* buf, int count, MPI_Datatype t, char* out, int outsize, int offset, MPI_Comm comm);
int unpack(const char* in, int insize, int offset, void* buf, int count, MPI_Datatype t, MPI_Comm comm);
// Every comm rank j's block of the packed vector `in` (laid out by `lay`) into recvbuf at element
// displs[j], rcounts[j] elements of recvtype; `skip`: a rank whose block is already there (-1: none).
int unpack_blocks(const char* in, int insize, const SiteLayout& lay, void* recvbuf, const int* rcounts,
                  const int* displs, MPI_Datatype recvtype, int skip, MPI_Comm comm);
int copy_typed(const void* src, void* dst, int count, MPI_Datatype t, MPI_Comm comm);

// dst := parts[0] op parts[1] op ... op parts[n-1], in this order (MPI's rank order when parts are
// site partials of contiguous sites). parts[own] is dst and holds its part on entry; the other
// parts are scratch and may be overwritten.
int fold_ordered(std::vector<void*>& parts, int own, int count, MPI_Datatype t, MPI_Op op, MPI_Comm comm);
// A Reduce root's fold of the sites' partials into parts[own] (its own site's): a commutative
// operation folds each other part straight in (no copy), any other in site order (fold_ordered).
int fold_at_root(std::vector<void*>& parts, int own, int count, MPI_Datatype t, MPI_Op op, bool commutative,
                 MPI_Comm comm);

// The spread reductions' site step: every other member's part of this rank's chunk (`mine`, of
// its site's chunking), segment by segment, into contrib[i] (one buffer per member, none for this
// rank). marks: segment q's requests are [marks[q], marks[q+1]) (a message may go in pieces).
int post_chunk_parts(Ctx& x, const SiteChunk& mine, MPI_Datatype t, int tag, std::vector<TypedBuf>& contrib,
                     std::vector<size_t>& marks);
// Its other side: this rank's part of every other member's chunk (SiteChunk(count, n, i, size,
// cuttable), as the owner cut it), straight from `input`, segment by segment.
int send_chunk_parts(Ctx& x, const void* input, int count, MPI_Datatype t, bool cuttable, int tag);

// Algorithms (one file each). `uniform` variants get per-rank sizes from counts known everywhere.
int barrier_site(Ctx& x);
int bcast_site(Ctx& x, void* buf, int count, MPI_Datatype t, int root);
int reduce_site(Ctx& x, const void* sendbuf, void* recvbuf, int count, MPI_Datatype t, MPI_Op op, int root,
                bool commutative);
int reduce_spread(Ctx& x, const void* sendbuf, void* recvbuf, int count, MPI_Datatype t, MPI_Op op, int root,
                  bool commutative);
int allreduce_site(Ctx& x, const void* sendbuf, void* recvbuf, int count, MPI_Datatype t, MPI_Op op, uint32_t alg);
int allreduce_spread(Ctx& x, const void* sendbuf, void* recvbuf, int count, MPI_Datatype t, MPI_Op op);
// Gather(v): rcounts/displs significant at the root only; uniform_bytes > 0 for Gather (every
// block has that many bytes), 0 for Gatherv (non-root sites exchange their sizes in the site);
// alg kAlgSiteLeaders, or kAlgSitePairwise (Gather: every block straight to the root).
int gather_site(Ctx& x, const void* sendbuf, int sendcount, MPI_Datatype sendtype, void* recvbuf, const int* rcounts,
                const int* displs, MPI_Datatype recvtype, int root, uint64_t uniform_bytes, uint32_t alg);
int scatter_site(Ctx& x, const void* sendbuf, const int* scounts, const int* displs, MPI_Datatype sendtype,
                 void* recvbuf, int recvcount, MPI_Datatype recvtype, int root, uint64_t uniform_bytes);
// Allgather(v): alg kAlgSiteLeaders, or kAlgSitePairwise (spread over the members; uniform blocks).
int allgather_site(Ctx& x, const void* sendbuf, int sendcount, MPI_Datatype sendtype, void* recvbuf, const int* rcounts,
                   const int* displs, MPI_Datatype recvtype, uint32_t alg);
// Alltoall(v): alg kAlgSiteLeaders (grouped at the leaders) or kAlgSitePairwise.
int alltoall_site(Ctx& x, const void* sendbuf, const int* scounts, const int* sdispls, MPI_Datatype sendtype,
                  void* recvbuf, const int* rcounts, const int* rdispls, MPI_Datatype recvtype, bool uniform,
                  uint32_t alg);
// Reduce_scatter(_block): rcounts (every rank's block, equal on every rank) as MPI passes them;
// through the leaders (kAlgSiteLeaders) or spread over every member (kAlgSitePairwise).
int reduce_scatter_site(Ctx& x, const void* sendbuf, void* recvbuf, const int* rcounts, MPI_Datatype t, MPI_Op op);
int reduce_scatter_spread(Ctx& x, const void* sendbuf, void* recvbuf, const int* rcounts, MPI_Datatype t, MPI_Op op);

}  // namespace sitempi::coll
