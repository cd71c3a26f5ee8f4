/* A job that runs until the test says stop: the demo's halo exchange between neighbouring ranks
 * and a residual Allreduce, step after step, until STOPFILE exists (rank 0 looks every 50 steps,
 * the others learn it from a Bcast) or MAXSEC seconds have passed. So a test can watch it live
 * for as long as it needs, whatever the machine's speed.
 * Usage: halo_until STOPFILE [MAXSEC] */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (argc < 2) {
    if (rank == 0) fprintf(stderr, "usage: halo_until STOPFILE [MAXSEC]\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  const double maxsec = argc > 2 ? atof(argv[2]) : 120;
  const int left = rank > 0 ? rank - 1 : MPI_PROC_NULL, right = rank < size - 1 ? rank + 1 : MPI_PROC_NULL;
  double halo[2] = {rank, rank}, edge[2] = {0, 0}, local = rank, sum = 0;
  const double t0 = MPI_Wtime();
  long steps = 0;
  for (int stop = 0; !stop; ++steps) {
    MPI_Request r[4];
    MPI_Irecv(&edge[0], 1, MPI_DOUBLE, left, 0, MPI_COMM_WORLD, &r[0]);
    MPI_Irecv(&edge[1], 1, MPI_DOUBLE, right, 1, MPI_COMM_WORLD, &r[1]);
    MPI_Isend(&halo[0], 1, MPI_DOUBLE, left, 1, MPI_COMM_WORLD, &r[2]);
    MPI_Isend(&halo[1], 1, MPI_DOUBLE, right, 0, MPI_COMM_WORLD, &r[3]);
    MPI_Waitall(4, r, MPI_STATUSES_IGNORE);
    MPI_Allreduce(&local, &sum, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    usleep(200); /* compute, without taking a core from the others */
    if (steps % 50 == 49) {
      if (rank == 0) stop = access(argv[1], F_OK) == 0 || MPI_Wtime() - t0 > maxsec;
      MPI_Bcast(&stop, 1, MPI_INT, 0, MPI_COMM_WORLD);
    }
  }
  if (rank == 0) printf("halo_until: %d ranks, %ld steps, sum %.1f\n", size, steps, sum);
  MPI_Finalize();
  return 0;
}
