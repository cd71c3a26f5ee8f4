/* request_trio KIND N: the shim's cost for following requests, counted by callgrind between the
 * CALLGRIND_ZERO_STATS / DUMP_STATS marks (bench/request-instructions.sh). KIND 0: Irecv + Isend +
 * Waitall, statuses ignored; 1: the same with a status array; 2: Irecv + Isend, then Waitany twice;
 * 3: Send to MPI_PROC_NULL; 4: Test(MPI_REQUEST_NULL); 5: Irecv + Isend + Wait(send) + Wait(recv). */
#include <mpi.h>
#include <stdlib.h>
#include <valgrind/callgrind.h>
static void loop(int kind, long n) {
  int buf[4] = {0}, out[4] = {0}, idx, flag;
  MPI_Request reqs[2], null = MPI_REQUEST_NULL;
  MPI_Status sts[2];
  for (long i = 0; i < n; i++) {
    switch (kind) {
      case 0:
      case 1:
        MPI_Irecv(buf, 4, MPI_INT, 0, 7, MPI_COMM_WORLD, &reqs[0]);
        MPI_Isend(out, 4, MPI_INT, 0, 7, MPI_COMM_WORLD, &reqs[1]);
        MPI_Waitall(2, reqs, kind ? sts : MPI_STATUSES_IGNORE);
        break;
      case 2:
        MPI_Irecv(buf, 4, MPI_INT, 0, 7, MPI_COMM_WORLD, &reqs[0]);
        MPI_Isend(out, 4, MPI_INT, 0, 7, MPI_COMM_WORLD, &reqs[1]);
        MPI_Waitany(2, reqs, &idx, MPI_STATUS_IGNORE);
        MPI_Waitany(2, reqs, &idx, MPI_STATUS_IGNORE);
        break;
      case 3:
        MPI_Send(buf, 4, MPI_INT, MPI_PROC_NULL, 0, MPI_COMM_WORLD);
        break;
      case 4:
        MPI_Test(&null, &flag, MPI_STATUS_IGNORE);
        break;
      case 5:
        MPI_Irecv(buf, 4, MPI_INT, 0, 7, MPI_COMM_WORLD, &reqs[0]);
        MPI_Isend(out, 4, MPI_INT, 0, 7, MPI_COMM_WORLD, &reqs[1]);
        MPI_Wait(&reqs[1], MPI_STATUS_IGNORE);
        MPI_Wait(&reqs[0], MPI_STATUS_IGNORE);
        break;
    }
  }
}
int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int kind = atoi(argv[1]);
  long n = atol(argv[2]);
  loop(kind, 2000);
  CALLGRIND_ZERO_STATS;
  loop(kind, n);
  CALLGRIND_DUMP_STATS;
  MPI_Finalize();
  return 0;
}
