// Collectives whose count/type arrays have one entry per peer, where "peer" is not "rank of the
// communicator": an intercommunicator with unequal groups (5 ranks split 2 + 3: the arrays have one
// entry per REMOTE rank) and topologies whose ranks have unequal in- and out-degrees (neighbourhood
// collectives: one entry per neighbour). Every array is malloc'ed with exactly as many entries as
// MPI reads, so that a recorder reading one more trips a memory checker even when it does not crash.
// Prints, from its own arithmetic, what each call sends ("expect FN total BYTES", "expect FN part
// WORLDPEER BYTES") and whether the received data are right ("check ..."). Run with 5 ranks.
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int wrank, wsize, bad;

// What rank `from` sends in entry `idx` of its arrays (some entries are empty), and as what type.
static int count_of(int from, int idx) { return (idx + from) % 3 == 0 ? 0 : 1 + idx + from; }
static MPI_Datatype type_of(int idx) { return idx % 2 ? MPI_DOUBLE : MPI_INT; }
static int size_of(int idx) { return idx % 2 ? 8 : 4; }

static void* exact(int n, size_t each) { return malloc((size_t)n * each); }

static void fill(char* p, int idx, int count, double value) {
  for (int k = 0; k < count; ++k) {
    if (size_of(idx) == 8)
      ((double*)p)[k] = value;
    else
      ((int*)p)[k] = (int)value;
  }
}
static void verify(const char* what, const char* p, int idx, int count, double value) {
  for (int k = 0; k < count; ++k) {
    double v = size_of(idx) == 8 ? ((const double*)p)[k] : ((const int*)p)[k];
    if (v != value) {
      ++bad;
      printf("check %s rank %d: got %g, want %g\n", what, wrank, v, value);
      return;
    }
  }
}

static void expect(const char* fn, int n, const int* world_peers, const long* bytes) {
  long total = 0;
  for (int j = 0; j < n; ++j) {
    if (world_peers[j] < 0) continue;
    total += bytes[j];
    if (bytes[j] > 0) printf("expect %s part %d %ld\n", fn, world_peers[j], bytes[j]);
  }
  printf("expect %s total %ld\n", fn, total);
}

// One exchange where this rank sends entry j to out[j] and receives entry i from in[i] (comm
// ranks; MPI_PROC_NULL allowed); in_idx[i] is this rank's entry in in[i]'s arrays, world_* the
// world ranks. kind: 'v' (one type) or 'w' (a type per entry); nonblocking with an MPI_Request.
typedef struct {
  int nout, nin;
  const int *out_world, *in_world, *in_idx;
} Exchange;

static void run(const char* fn, MPI_Comm comm, const Exchange* x, char kind, int neighbour, int nonblocking) {
  int* scounts = exact(x->nout, sizeof(int));
  int* rcounts = exact(x->nin, sizeof(int));
  int* sdispls = exact(x->nout, sizeof(int));
  int* rdispls = exact(x->nin, sizeof(int));
  MPI_Aint* sdispls_a = exact(x->nout, sizeof(MPI_Aint));
  MPI_Aint* rdispls_a = exact(x->nin, sizeof(MPI_Aint));
  MPI_Datatype* stypes = exact(x->nout, sizeof(MPI_Datatype));
  MPI_Datatype* rtypes = exact(x->nin, sizeof(MPI_Datatype));
  long* sent = exact(x->nout, sizeof(long));
  size_t sbytes = 0, rbytes = 0;
  for (int j = 0; j < x->nout; ++j) {
    const int t = kind == 'w' ? j : 0;
    scounts[j] = x->out_world[j] < 0 ? 0 : count_of(wrank, j);
    stypes[j] = type_of(t);
    sdispls[j] = kind == 'w' ? (int)sbytes : (int)(sbytes / 4);
    sdispls_a[j] = (MPI_Aint)sbytes;
    sent[j] = (long)scounts[j] * size_of(t);
    sbytes += (size_t)sent[j];
  }
  for (int i = 0; i < x->nin; ++i) {
    const int t = kind == 'w' ? x->in_idx[i] : 0;
    rcounts[i] = x->in_world[i] < 0 ? 0 : count_of(x->in_world[i], x->in_idx[i]);
    rtypes[i] = type_of(t);
    rdispls[i] = kind == 'w' ? (int)rbytes : (int)(rbytes / 4);
    rdispls_a[i] = (MPI_Aint)rbytes;
    rbytes += (size_t)rcounts[i] * size_of(t);
  }
  char* sbuf = malloc(sbytes + 8);
  char* rbuf = malloc(rbytes + 8);
  for (int j = 0; j < x->nout; ++j) fill(sbuf + sdispls_a[j], kind == 'w' ? j : 0, scounts[j], wrank * 100 + j);
  MPI_Request req = MPI_REQUEST_NULL;
  MPI_Request* r = nonblocking ? &req : NULL;
  int rc;
  if (neighbour && kind == 'v')
    rc = r ? MPI_Ineighbor_alltoallv(sbuf, scounts, sdispls, MPI_INT, rbuf, rcounts, rdispls, MPI_INT, comm, r)
           : MPI_Neighbor_alltoallv(sbuf, scounts, sdispls, MPI_INT, rbuf, rcounts, rdispls, MPI_INT, comm);
  else if (neighbour)
    rc = r ? MPI_Ineighbor_alltoallw(sbuf, scounts, sdispls_a, stypes, rbuf, rcounts, rdispls_a, rtypes, comm, r)
           : MPI_Neighbor_alltoallw(sbuf, scounts, sdispls_a, stypes, rbuf, rcounts, rdispls_a, rtypes, comm);
  else if (kind == 'v')
    rc = r ? MPI_Ialltoallv(sbuf, scounts, sdispls, MPI_INT, rbuf, rcounts, rdispls, MPI_INT, comm, r)
           : MPI_Alltoallv(sbuf, scounts, sdispls, MPI_INT, rbuf, rcounts, rdispls, MPI_INT, comm);
  else
    rc = r ? MPI_Ialltoallw(sbuf, scounts, sdispls, stypes, rbuf, rcounts, rdispls, rtypes, comm, r)
           : MPI_Alltoallw(sbuf, scounts, sdispls, stypes, rbuf, rcounts, rdispls, rtypes, comm);
  if (r) MPI_Wait(r, MPI_STATUS_IGNORE);
  if (rc != MPI_SUCCESS) {
    ++bad;
    printf("check %s rank %d: rc %d\n", fn, wrank, rc);
  }
  for (int i = 0; i < x->nin; ++i)
    if (x->in_world[i] >= 0)
      verify(fn, rbuf + rdispls_a[i], kind == 'w' ? x->in_idx[i] : 0, rcounts[i], x->in_world[i] * 100 + x->in_idx[i]);
  expect(fn, x->nout, x->out_world, sent);
  free(scounts);
  free(rcounts);
  free(sdispls);
  free(rdispls);
  free(sdispls_a);
  free(rdispls_a);
  free(stypes);
  free(rtypes);
  free(sent);
  free(sbuf);
  free(rbuf);
}

// The same block (count ints) to every out-neighbour: Neighbor_allgather / Neighbor_alltoall.
static void run_block(const char* fn, MPI_Comm comm, const Exchange* x, int alltoall) {
  const int count = 3;
  int* sbuf = malloc(sizeof(int) * (size_t)count * (size_t)(x->nout ? x->nout : 1));
  int* rbuf = malloc(sizeof(int) * (size_t)count * (size_t)(x->nin ? x->nin : 1));
  long* sent = exact(x->nout, sizeof(long));
  for (int k = 0; k < count * (alltoall ? x->nout : 1); ++k) sbuf[k] = wrank;
  for (int j = 0; j < x->nout; ++j) sent[j] = x->out_world[j] < 0 ? 0 : count * 4;
  int rc = alltoall ? MPI_Neighbor_alltoall(sbuf, count, MPI_INT, rbuf, count, MPI_INT, comm)
                    : MPI_Neighbor_allgather(sbuf, count, MPI_INT, rbuf, count, MPI_INT, comm);
  if (rc != MPI_SUCCESS) {
    ++bad;
    printf("check %s rank %d: rc %d\n", fn, wrank, rc);
  }
  for (int i = 0; i < x->nin; ++i)
    if (x->in_world[i] >= 0 && rbuf[i * count] != x->in_world[i]) {
      ++bad;
      printf("check %s rank %d: bad block %d\n", fn, wrank, i);
    }
  expect(fn, x->nout, x->out_world, sent);
  free(sbuf);
  free(rbuf);
  free(sent);
}

// Out-neighbours of rank r (world = comm ranks here), as the standard orders them.
static int cart_out(int r, int* out) {
  out[0] = r > 0 ? r - 1 : -1;
  out[1] = r + 1 < wsize ? r + 1 : -1;
  return 2;
}
static int star_out(int r, int* out) {  // graph: 0 is linked to everyone, everyone to 0
  if (r != 0) {
    out[0] = 0;
    return 1;
  }
  for (int k = 1; k < wsize; ++k) out[k - 1] = k;
  return wsize - 1;
}
static int dist_out(int r, int* out) {  // even ranks send to the next two, odd ranks to the next one
  out[0] = (r + 1) % wsize;
  if (r % 2) return 1;
  out[1] = (r + 2) % wsize;
  return 2;
}

static int index_in(int (*outs)(int, int*), int from, int me) {
  int tmp[64];
  const int n = outs(from, tmp);
  for (int k = 0; k < n; ++k)
    if (tmp[k] == me) return k;
  return -1;
}

// Sources of this rank: for Cartesian and graph topologies the same list as the destinations;
// for the distributed graph, every rank that names this one, ascending (as passed at creation).
static void neighbours(int (*outs)(int, int*), int symmetric, int* out, int* nout, int* in, int* nin, int* in_idx) {
  *nout = outs(wrank, out);
  if (symmetric) {
    *nin = *nout;
    memcpy(in, out, sizeof(int) * (size_t)*nout);
  } else {
    *nin = 0;
    for (int k = 0; k < wsize; ++k)
      if (index_in(outs, k, wrank) >= 0) in[(*nin)++] = k;
  }
  for (int i = 0; i < *nin; ++i) in_idx[i] = in[i] < 0 ? 0 : index_in(outs, in[i], wrank);
}

static void topology(const char* name, MPI_Comm comm, int (*outs)(int, int*), int symmetric) {
  int out[64], in[64], in_idx[64], nout, nin;
  neighbours(outs, symmetric, out, &nout, in, &nin, in_idx);
  Exchange x = {nout, nin, out, in, in_idx};
  char fn[64];
  (void)name;
  snprintf(fn, sizeof fn, "Neighbor_alltoallv");
  run(fn, comm, &x, 'v', 1, 0);
  snprintf(fn, sizeof fn, "Ineighbor_alltoallv");
  run(fn, comm, &x, 'v', 1, 1);
  snprintf(fn, sizeof fn, "Neighbor_alltoallw");
  run(fn, comm, &x, 'w', 1, 0);
  snprintf(fn, sizeof fn, "Ineighbor_alltoallw");
  run(fn, comm, &x, 'w', 1, 1);
  if (symmetric) {  // one recvcount for every source: only where all send the same
    run_block("Neighbor_allgather", comm, &x, 0);
    run_block("Neighbor_alltoall", comm, &x, 1);
  }
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &wrank);
  MPI_Comm_size(MPI_COMM_WORLD, &wsize);
  if (wsize != 5) {
    if (wrank == 0) fprintf(stderr, "run with 5 ranks\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }

  // Intercommunicator: world ranks 0-1 and 2-4.
  const int color = wrank < 2 ? 0 : 1;
  MPI_Comm local, inter;
  MPI_Comm_split(MPI_COMM_WORLD, color, wrank, &local);
  MPI_Intercomm_create(local, 0, MPI_COMM_WORLD, color == 0 ? 2 : 0, 7, &inter);
  int lrank, rsize;
  MPI_Comm_rank(local, &lrank);
  MPI_Comm_remote_size(inter, &rsize);
  int remote[8], idx[8];
  for (int j = 0; j < rsize; ++j) {
    remote[j] = color == 0 ? 2 + j : j;
    idx[j] = lrank;
  }
  Exchange ix = {rsize, rsize, remote, remote, idx};
  run("Alltoallv", inter, &ix, 'v', 0, 0);
  run("Ialltoallv", inter, &ix, 'v', 0, 1);
  run("Alltoallw", inter, &ix, 'w', 0, 0);
  run("Ialltoallw", inter, &ix, 'w', 0, 1);
  // An erroneous call returned to the application (no arrays at all): recording must not read them.
  MPI_Comm_set_errhandler(inter, MPI_ERRORS_RETURN);
  int dummy[8] = {0};
  if (MPI_Alltoallv(dummy, NULL, NULL, MPI_INT, dummy, NULL, NULL, MPI_INT, inter) == MPI_SUCCESS) {
    ++bad;
    printf("check rank %d: Alltoallv without arrays succeeded\n", wrank);
  }
  MPI_Comm_free(&inter);
  MPI_Comm_free(&local);

  // Topologies on all five ranks (the communicator ranks are the world ranks: no reordering).
  MPI_Comm cart, graph, dist;
  int dims[1] = {wsize}, periods[1] = {0};
  MPI_Cart_create(MPI_COMM_WORLD, 1, dims, periods, 0, &cart);
  topology("cart", cart, cart_out, 1);
  int index[16], edges[32], e = 0;
  for (int r = 0; r < wsize; ++r) {
    e += star_out(r, edges + e);
    index[r] = e;
  }
  MPI_Graph_create(MPI_COMM_WORLD, wsize, index, edges, 0, &graph);
  topology("graph", graph, star_out, 1);
  int out[4], in[8], nout = dist_out(wrank, out), nin = 0;
  for (int k = 0; k < wsize; ++k)
    if (index_in(dist_out, k, wrank) >= 0) in[nin++] = k;
  MPI_Dist_graph_create_adjacent(MPI_COMM_WORLD, nin, in, MPI_UNWEIGHTED, nout, out, MPI_UNWEIGHTED, MPI_INFO_NULL, 0,
                                 &dist);
  topology("dist", dist, dist_out, 0);
  MPI_Comm_free(&cart);
  MPI_Comm_free(&graph);
  MPI_Comm_free(&dist);

  printf("check rank %d %s\n", wrank, bad ? "FAILED" : "ok");
  MPI_Finalize();
  return bad ? 1 : 0;
}
