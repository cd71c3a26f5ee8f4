// Iallreduce as a chain (coll/nonblocking.h). A member sends its vector to its site's leader and
// receives the result from it, both posted at once: nothing more to do. The leader:
//   0. receives its members' vectors;
//   1. folds them in rank order into recvbuf (the site's partial), then the leaders' step of
//      Allreduce (allreduce.cpp): the exchange (alg 1: the partial to every other leader) or, for
//      3+ sites and m >= m*, reduce-scatter (alg 2: chunk u to leader u);
//   2. folds the other sites' partials in site order (alg 2: its chunk, then sends it to every
//      other leader and receives theirs into place);
//   3. sends the result to its members.
// Cross-site bytes as the blocking Allreduce: 2(S-1)m for two sites (the bound), S(S-1)m for the
// exchange, 2(S-1)m for RS+AG. The datatype is the application's own, not a duplicate: user
// operations may tell datatypes apart by their handle.
#include "coll/nonblocking.h"

namespace sitempi::coll {

namespace {

class IallreduceChain final : public Chain {
 public:
  IallreduceChain(SiteCache& c, const void* sendbuf, void* recvbuf, int count, MPI_Datatype t, MPI_Op op, uint32_t alg)
      : Chain(c), send_(sendbuf), recv_(recvbuf), count_(count), t_(t), op_(op), alg_(alg), ti_(t) {}

  int start(Outcome* planned) override {
    const core::Grouping& g = c_.g;
    const int s = c_.site(), S = g.S, n = g.count(s);
    const bool in_place = send_ == MPI_IN_PLACE;
    if (!c_.leader()) {
      const void* in = send_;
      if (in_place) {  // recvbuf receives the result while the input may still be in flight
        own_.reset(count_, ti_);
        SITEMPI_RC(copy_typed(recv_, own_.get(), count_, t_, c_.priv));
        in = own_.get();
      }
      SITEMPI_RC(x_.isend(in, count_, t_, g.leader(s), tag_));
      SITEMPI_RC(x_.irecv(recv_, count_, t_, g.leader(s), tag_));
      phase_ = 3;
      return MPI_SUCCESS;
    }
    // What this leader will send to other sites (step 1, and step 2 of RS+AG).
    for (int u = 0; u < S; ++u) {
      if (u == s) continue;
      const uint64_t out_elems = alg_ == core::kAlgSiteRsAg ? len(u) : uint64_t(count_);
      if (out_elems) planned->cross_msgs++, planned->cross_bytes += out_elems * uint64_t(ti_.size);
      if (alg_ == core::kAlgSiteRsAg && len(s))
        planned->cross_msgs++, planned->cross_bytes += len(s) * uint64_t(ti_.size);
    }
    if (!in_place) SITEMPI_RC(copy_typed(send_, recv_, count_, t_, c_.priv));
    bufs_.resize(size_t(n > S ? n : S));
    for (int k = 1; k < n; ++k) {
      bufs_[size_t(k)].reset(count_, ti_);
      SITEMPI_RC(x_.irecv(bufs_[size_t(k)].get(), count_, t_, g.of(s)[k], tag_));
    }
    return MPI_SUCCESS;
  }

 private:
  uint64_t len(int u) const { return core::rsag_chunk(uint64_t(count_), c_.g.S, u); }
  void* chunk(int u) const { return at(recv_, MPI_Aint(core::rsag_offset(uint64_t(count_), c_.g.S, u)), ti_.extent); }

  int step() override {
    const core::Grouping& g = c_.g;
    const int s = c_.site(), S = g.S, n = g.count(s);
    switch (phase_++) {
      case 0: {  // the site's partial, then the leaders' first step
        std::vector<void*> parts(static_cast<size_t>(n));
        parts[0] = recv_;
        for (int k = 1; k < n; ++k) parts[size_t(k)] = bufs_[size_t(k)].get();
        SITEMPI_RC(fold_ordered(parts, 0, count_, t_, op_, c_.priv));
        const bool rsag = alg_ == core::kAlgSiteRsAg;
        const int mine = rsag ? int(len(s)) : count_;
        for (int u = 0; u < S; ++u) {
          if (u == s) continue;
          bufs_[size_t(u)].reset(mine, ti_);
          if (mine) SITEMPI_RC(x_.irecv(bufs_[size_t(u)].get(), mine, t_, g.leader(u), tag_));
        }
        for (int u = 0; u < S; ++u) {
          if (u == s) continue;
          if (!rsag)
            SITEMPI_RC(x_.isend(recv_, count_, t_, g.leader(u), tag_));
          else if (len(u))
            SITEMPI_RC(x_.isend(chunk(u), int(len(u)), t_, g.leader(u), tag_));
        }
        return MPI_SUCCESS;
      }
      case 1: {  // fold the other sites' partials (of my chunk, for RS+AG) in site order
        const bool rsag = alg_ == core::kAlgSiteRsAg;
        std::vector<void*> parts(static_cast<size_t>(S));
        for (int u = 0; u < S; ++u) parts[size_t(u)] = u == s ? (rsag ? chunk(s) : recv_) : bufs_[size_t(u)].get();
        SITEMPI_RC(fold_ordered(parts, s, rsag ? int(len(s)) : count_, t_, op_, c_.priv));
        if (!rsag) return send_result();
        for (int u = 0; u < S; ++u)
          if (u != s && len(u)) SITEMPI_RC(x_.irecv(chunk(u), int(len(u)), t_, g.leader(u), tag_));
        for (int u = 0; u < S; ++u)
          if (u != s && len(s)) SITEMPI_RC(x_.isend(chunk(s), int(len(s)), t_, g.leader(u), tag_));
        return MPI_SUCCESS;
      }
      case 2:
        return send_result();
      default:
        finish();
        return MPI_SUCCESS;
    }
  }

  int send_result() {
    const int s = c_.site();
    phase_ = 3;
    for (int k = 1; k < c_.g.count(s); ++k) SITEMPI_RC(x_.isend(recv_, count_, t_, c_.g.of(s)[k], tag_));
    return MPI_SUCCESS;
  }

  const void* send_;
  void* recv_;
  int count_;
  MPI_Datatype t_;
  MPI_Op op_;
  uint32_t alg_;
  TypeInfo ti_;
  TypedBuf own_;
  std::vector<TypedBuf> bufs_;  // members' vectors (index = local rank), then other sites' partials
};

}  // namespace

std::unique_ptr<Chain> iallreduce_chain(SiteCache& c, const void* sendbuf, void* recvbuf, int count, MPI_Datatype t,
                                        MPI_Op op, uint32_t alg) {
  return std::make_unique<IallreduceChain>(c, sendbuf, recvbuf, count, t, op, alg);
}

}  // namespace sitempi::coll
