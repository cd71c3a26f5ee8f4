/* Validation program: master-worker. Rank 0 hands out TASKS tasks of TASK_BYTES: first one to
 * each worker, then the next to whichever worker returns a result first (MPI_Recv from
 * MPI_ANY_SOURCE); a worker computes a task (a timed sleep of 1-3x COMPUTE_US, by task number)
 * and sends back a result of TASK_BYTES / 4. A message with tag 1 stops a worker.
 * Usage: mw TASKS COMPUTE_US TASK_BYTES */
#include <mpi.h>
#include <stdlib.h>

#include "emulate.h"

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int tasks = argc > 1 ? atoi(argv[1]) : 60;
  const long us = argc > 2 ? atol(argv[2]) : 10000;
  const int bytes = argc > 3 ? atoi(argv[3]) : 8192;
  char *buf = calloc((size_t)bytes, 1);
  if (size < 2) {
    MPI_Finalize();
    return 1;
  }
  if (rank == 0) {
    int next = 0, done = 0;
    for (int w = 1; w < size; w++, next++) {
      buf[0] = (char)next;
      MPI_Send(buf, bytes, MPI_BYTE, w, next < tasks ? 0 : 1, MPI_COMM_WORLD);
    }
    while (done < tasks && done < next) {
      MPI_Status st;
      MPI_Recv(buf, bytes / 4, MPI_BYTE, MPI_ANY_SOURCE, 0, MPI_COMM_WORLD, &st);
      done++;
      buf[0] = (char)next;
      MPI_Send(buf, bytes, MPI_BYTE, st.MPI_SOURCE, next < tasks ? 0 : 1, MPI_COMM_WORLD);
      next++;
    }
  } else {
    for (;;) {
      MPI_Status st;
      MPI_Recv(buf, bytes, MPI_BYTE, 0, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
      if (st.MPI_TAG == 1) break;
      compute(us * (1 + (unsigned char)buf[0] % 3));
      MPI_Send(buf, bytes / 4, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
    }
  }
  free(buf);
  MPI_Finalize();
  return 0;
}
