/* The demo job: a 1-D heat-equation stencil with halo exchange between neighbouring ranks and
 * a residual Allreduce every 10 steps — the communication pattern of many real MPI codes.
 * `sitempi-demo [cells-per-rank] [steps]` */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int n = argc > 1 ? atoi(argv[1]) : 100000;
  const int steps = argc > 2 ? atoi(argv[2]) : 200;
  double* u = calloc(n + 2, sizeof(double));
  double* v = calloc(n + 2, sizeof(double));
  if (rank == 0) u[n / 2] = 1000.0;
  const int left = rank > 0 ? rank - 1 : MPI_PROC_NULL, right = rank < size - 1 ? rank + 1 : MPI_PROC_NULL;
  double residual = 0;
  for (int s = 0; s < steps; s++) {
    MPI_Request r[4];
    MPI_Irecv(&u[0], 1, MPI_DOUBLE, left, 0, MPI_COMM_WORLD, &r[0]);
    MPI_Irecv(&u[n + 1], 1, MPI_DOUBLE, right, 1, MPI_COMM_WORLD, &r[1]);
    MPI_Isend(&u[1], 1, MPI_DOUBLE, left, 1, MPI_COMM_WORLD, &r[2]);
    MPI_Isend(&u[n], 1, MPI_DOUBLE, right, 0, MPI_COMM_WORLD, &r[3]);
    MPI_Waitall(4, r, MPI_STATUSES_IGNORE);
    double local = 0;
    for (int i = 1; i <= n; i++) {
      v[i] = u[i] + 0.25 * (u[i - 1] - 2 * u[i] + u[i + 1]);
      local += (v[i] - u[i]) * (v[i] - u[i]);
    }
    double* t = u;
    u = v;
    v = t;
    if (s % 10 == 9) MPI_Allreduce(&local, &residual, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  }
  double total = 0, mine = 0;
  for (int i = 1; i <= n; i++) mine += u[i];
  MPI_Reduce(&mine, &total, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
  if (rank == 0)
    printf("stencil: %d ranks x %d cells, %d steps, heat %.3f, residual %.3e\n", size, n, steps, total, residual);
  free(u);
  free(v);
  MPI_Finalize();
  return 0;
}
