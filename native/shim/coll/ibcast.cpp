// Ibcast as a chain (coll/nonblocking.h). The root sends the buffer to every other site's leader
// and to the members of its own site, all at once; every other rank receives once, from the root
// (its own site) or from its leader. Only the other sites' leaders have a second step: when the
// buffer has arrived, they send it to their members. Cross-site: (S-1)m, the bound.
#include "coll/nonblocking.h"

namespace sitempi::coll {

namespace {

class IbcastChain final : public Chain {
 public:
  IbcastChain(SiteCache& c, void* buf, int count, MPI_Datatype t, int root)
      : Chain(c), buf_(buf), count_(count), t_(keep(t)), root_(root) {}

  int start(Outcome* planned) override {
    const core::Grouping& g = c_.g;
    const int s = c_.site(), sr = g.site[size_t(root_)], me = c_.me;
    phase_ = 1;
    if (me == root_) {
      const uint64_t m = TypeInfo(t_).bytes(count_);
      for (int u = 0; u < g.S; ++u) {
        if (u == sr) continue;
        planned->cross_msgs++;
        planned->cross_bytes += m;
        SITEMPI_RC(x_.isend(buf_, count_, t_, g.leader(u), tag_));
      }
      for (int k = 0; k < g.count(sr); ++k)
        if (g.of(sr)[k] != root_) SITEMPI_RC(x_.isend(buf_, count_, t_, g.of(sr)[k], tag_));
      return MPI_SUCCESS;
    }
    if (s == sr) return x_.irecv(buf_, count_, t_, root_, tag_);
    if (!c_.leader()) return x_.irecv(buf_, count_, t_, g.leader(s), tag_);
    phase_ = 0;  // a leader of another site: receive, then forward
    return x_.irecv(buf_, count_, t_, root_, tag_);
  }

 private:
  int step() override {
    if (phase_++ > 0) {
      finish();
      return MPI_SUCCESS;
    }
    const int s = c_.site();
    for (int k = 1; k < c_.g.count(s); ++k) SITEMPI_RC(x_.isend(buf_, count_, t_, c_.g.of(s)[k], tag_));
    return MPI_SUCCESS;
  }

  void* buf_;
  int count_;
  MPI_Datatype t_;
  int root_;
};

}  // namespace

std::unique_ptr<Chain> ibcast_chain(SiteCache& c, void* buf, int count, MPI_Datatype t, int root) {
  return std::make_unique<IbcastChain>(c, buf, count, t, root);
}

}  // namespace sitempi::coll
