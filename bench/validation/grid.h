/* The validation programs' Cartesian grid of ranks (MPI_Dims_create, rank order x fastest) and the
 * halo exchange of the stencils: one place for the neighbour arithmetic the programs share. */
#ifndef SITEMPI_VALIDATION_GRID_H
#define SITEMPI_VALIDATION_GRID_H
#include <mpi.h>

typedef struct {
  int ndims, dims[3], coord[3], stride[3];
} grid_t;

static inline grid_t grid_create(int ndims) {
  grid_t g = {ndims, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Dims_create(size, ndims, g.dims);
  for (int k = 0, s = 1; k < ndims; s *= g.dims[k], k++) {
    g.stride[k] = s;
    g.coord[k] = (rank / s) % g.dims[k];
  }
  return g;
}

/* The face neighbours of RANK (up to 2 x ndims): lower then upper, dimension by dimension. */
static inline int grid_faces(const grid_t *g, int rank, int nb[6]) {
  int n = 0;
  for (int k = 0; k < g->ndims; k++) {
    if (g->coord[k] > 0) nb[n++] = rank - g->stride[k];
    if (g->coord[k] < g->dims[k] - 1) nb[n++] = rank + g->stride[k];
  }
  return n;
}

/* One halo exchange: BYTES from OUT's k-th block to neighbour k, into IN's k-th block. */
static inline void halo_exchange(char *out, char *in, int bytes, const int *nb, int n) {
  MPI_Request rq[12];
  for (int k = 0; k < n; k++) MPI_Irecv(in + (size_t)k * bytes, bytes, MPI_BYTE, nb[k], 0, MPI_COMM_WORLD, &rq[k]);
  for (int k = 0; k < n; k++) MPI_Isend(out + (size_t)k * bytes, bytes, MPI_BYTE, nb[k], 0, MPI_COMM_WORLD, &rq[n + k]);
  MPI_Waitall(2 * n, rq, MPI_STATUSES_IGNORE);
}

#endif
