/* Times tight loops of cheap MPI calls: `call_loop CALLS REPS`. Prints one JSON line per call
 * kind with the median ns per call over REPS repetitions. Run with and without the shim to get
 * the shim's cost per intercepted call. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "timing.h"

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  long calls = argc > 1 ? atol(argv[1]) : 1000000;
  int reps = argc > 2 ? atoi(argv[2]) : 7;
  int buf[4] = {0}, out[2] = {0}, flag;
  MPI_Request null = MPI_REQUEST_NULL;
  MPI_Status st;
  MPI_Request reqs[2];
  const char* names[] = {"MPI_Send(PROC_NULL)", "MPI_Test(REQUEST_NULL)", "MPI_Iprobe", "MPI_Recv(PROC_NULL)",
                         "MPI_Irecv + MPI_Isend + MPI_Waitall (self), per trio"};
  double samples[64];
  for (int kind = 0; kind < 5; kind++) {
    for (int r = 0; r < reps && r < 64; r++) {
      double t0 = now();
      switch (kind) {
        case 0:
          for (long i = 0; i < calls; i++) MPI_Send(buf, 4, MPI_INT, MPI_PROC_NULL, 0, MPI_COMM_WORLD);
          break;
        case 1:
          for (long i = 0; i < calls; i++) MPI_Test(&null, &flag, &st);
          break;
        case 2:
          for (long i = 0; i < calls; i++) MPI_Iprobe(MPI_ANY_SOURCE, 12345, MPI_COMM_WORLD, &flag, &st);
          break;
        case 3:  // status ignored: the shim reads a status of its own for the bytes received
          for (long i = 0; i < calls; i++)
            MPI_Recv(buf, 4, MPI_INT, MPI_PROC_NULL, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
          break;
        case 4:  // a receive the shim follows to its completion: posted for 4 ints, 2 arrive (btl self)
          for (long i = 0; i < calls; i++) {
            MPI_Irecv(buf, 4, MPI_INT, 0, 7, MPI_COMM_WORLD, &reqs[0]);
            MPI_Isend(out, 2, MPI_INT, 0, 7, MPI_COMM_WORLD, &reqs[1]);
            MPI_Waitall(2, reqs, MPI_STATUSES_IGNORE);
          }
          break;
      }
      samples[r] = (now() - t0) / calls;
    }
    printf("{\"call\":\"%s\",\"ns\":%.3f}\n", names[kind], median(samples, reps < 64 ? reps : 64));
  }
  MPI_Finalize();
  return 0;
}
