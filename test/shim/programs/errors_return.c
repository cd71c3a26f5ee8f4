/* Erroneous calls on a communicator with MPI_ERRORS_RETURN (MPI_COMM_WORLD keeps the default,
 * fatal handler): each must come back to the program with the library's error class, whether the
 * shim is loaded or not, with or without site-aware collectives. Prints one line per call:
 * "NAME class" and "done" at the end. Run with 2 or more ranks. */
#include <mpi.h>
#include <stdio.h>

static void report(const char *name, int rc) {
  int cls = rc;
  if (rc != MPI_SUCCESS) MPI_Error_class(rc, &cls);
  printf("%s %d\n", name, cls);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size, x = 1, y[4] = {0};
  MPI_Comm c;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Comm_dup(MPI_COMM_WORLD, &c);
  MPI_Comm_set_errhandler(c, MPI_ERRORS_RETURN);
  /* Local argument errors: every rank makes them, none communicates. */
  report("Send-datatype-null", MPI_Send(&x, 1, MPI_DATATYPE_NULL, 0, 0, c));
  report("Send-bad-rank", MPI_Send(&x, 1, MPI_INT, size + 5, 0, c));
  report("Send-negative-count", MPI_Send(&x, -1, MPI_INT, 0, 0, c));
  report("Allreduce-op-null", MPI_Allreduce(&x, y, 1, MPI_INT, MPI_OP_NULL, c));
  report("Allreduce-datatype-null", MPI_Allreduce(&x, y, 1, MPI_DATATYPE_NULL, MPI_SUM, c));
  report("Bcast-bad-root", MPI_Bcast(&x, 1, MPI_INT, size + 1, c));
  report("Reduce-bad-root", MPI_Reduce(&x, y, 1, MPI_INT, MPI_SUM, -3, c));
  report("Gather-datatype-null", MPI_Gather(&x, 1, MPI_DATATYPE_NULL, y, 1, MPI_INT, 0, c));
  /* A receive too small for its message: MPI_ERR_TRUNCATE. */
  if (rank == 0) {
    int big[4] = {1, 2, 3, 4};
    report("Send", MPI_Send(big, 4, MPI_INT, 1, 7, c));
  } else if (rank == 1) {
    report("Recv-truncate", MPI_Recv(y, 1, MPI_INT, 0, 7, c, MPI_STATUS_IGNORE));
  }
  /* The communicator still works afterwards. */
  x = rank + 1;
  report("Allreduce", MPI_Allreduce(&x, y, 1, MPI_INT, MPI_SUM, c));
  if (rank == 0) printf("sum %d\n", y[0]);
  MPI_Comm_free(&c);
  MPI_Finalize();
  if (rank == 0) printf("done\n");
  return 0;
}
