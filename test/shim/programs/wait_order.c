/* Completions in another order than posting, for the request ids of the records (Role Done):
 * rank 0 posts receives from ranks 1 and 2; rank 2 sends at once, rank 1 only after rank 0's
 * "go", which rank 0 sends when it has the message of rank 2. Its first completion is then always
 * the request posted last. Scenarios, one after another (3 ranks):
 *   A  Waitany, known sources (tags 1, 2)
 *   B  Waitany, MPI_ANY_SOURCE (tags 6, 7; 10 and 30 ints)
 *   C  Waitsome over a receive from 1, a receive from 2 and a send to 2
 *   D  MPI_Test polling on the receive from 2, then MPI_Wait on the one from 1
 * Prints "wait_order ok" on rank 0 when every completion came in the expected order. */
#include <mpi.h>
#include <stdio.h>

static int bad = 0;
static void expect(int cond, const char* what) {
  if (!cond) {
    fprintf(stderr, "wait_order: %s\n", what);
    bad = 1;
  }
}

static void go(int scenario) { MPI_Send(&scenario, 1, MPI_INT, 1, 100 + scenario, MPI_COMM_WORLD); }
static void wait_go(int scenario) {
  int s;
  MPI_Recv(&s, 1, MPI_INT, 0, 100 + scenario, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size != 3) MPI_Abort(MPI_COMM_WORLD, 2);
  int a[40] = {0}, b[40] = {0}, c[40] = {0};
  MPI_Request r[3];
  MPI_Status st;
  int idx, n, ids[3];

  /* A */
  if (rank == 0) {
    MPI_Irecv(a, 5, MPI_INT, 1, 1, MPI_COMM_WORLD, &r[0]);
    MPI_Irecv(b, 5, MPI_INT, 2, 2, MPI_COMM_WORLD, &r[1]);
    MPI_Waitany(2, r, &idx, MPI_STATUS_IGNORE);
    expect(idx == 1, "A: first Waitany not the receive from 2");
    go(1);
    MPI_Waitany(2, r, &idx, MPI_STATUS_IGNORE);
    expect(idx == 0, "A: second Waitany not the receive from 1");
  } else if (rank == 1) {
    wait_go(1);
    MPI_Send(a, 5, MPI_INT, 0, 1, MPI_COMM_WORLD);
  } else
    MPI_Send(b, 5, MPI_INT, 0, 2, MPI_COMM_WORLD);
  MPI_Barrier(MPI_COMM_WORLD);

  /* B */
  if (rank == 0) {
    MPI_Irecv(a, 40, MPI_INT, MPI_ANY_SOURCE, 6, MPI_COMM_WORLD, &r[0]);
    MPI_Irecv(b, 40, MPI_INT, MPI_ANY_SOURCE, 7, MPI_COMM_WORLD, &r[1]);
    MPI_Waitany(2, r, &idx, &st);
    expect(idx == 1 && st.MPI_SOURCE == 2, "B: first Waitany not tag 7 from 2");
    go(2);
    MPI_Waitany(2, r, &idx, &st);
    expect(idx == 0 && st.MPI_SOURCE == 1, "B: second Waitany not tag 6 from 1");
  } else if (rank == 1) {
    wait_go(2);
    MPI_Send(a, 10, MPI_INT, 0, 6, MPI_COMM_WORLD);
  } else
    MPI_Send(b, 30, MPI_INT, 0, 7, MPI_COMM_WORLD);
  MPI_Barrier(MPI_COMM_WORLD);

  /* C */
  if (rank == 0) {
    MPI_Irecv(a, 8, MPI_INT, 1, 21, MPI_COMM_WORLD, &r[0]);
    MPI_Irecv(b, 8, MPI_INT, 2, 22, MPI_COMM_WORLD, &r[1]);
    MPI_Isend(c, 8, MPI_INT, 2, 24, MPI_COMM_WORLD, &r[2]);
    int left = 3, got1 = 0;
    while (r[1] != MPI_REQUEST_NULL) {
      MPI_Waitsome(3, r, &n, ids, MPI_STATUSES_IGNORE);
      for (int i = 0; i < n; i++) got1 |= ids[i] == 0;
      left -= n;
    }
    expect(!got1, "C: the receive from 1 completed before go");
    go(3);
    while (left > 0) {
      MPI_Waitsome(3, r, &n, ids, MPI_STATUSES_IGNORE);
      left -= n;
    }
  } else if (rank == 1) {
    wait_go(3);
    MPI_Send(a, 8, MPI_INT, 0, 21, MPI_COMM_WORLD);
  } else {
    MPI_Send(b, 8, MPI_INT, 0, 22, MPI_COMM_WORLD);
    MPI_Recv(c, 8, MPI_INT, 0, 24, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  }
  MPI_Barrier(MPI_COMM_WORLD);

  /* D */
  if (rank == 0) {
    int flag = 0;
    MPI_Irecv(a, 3, MPI_INT, 1, 31, MPI_COMM_WORLD, &r[0]);
    MPI_Irecv(b, 3, MPI_INT, 2, 32, MPI_COMM_WORLD, &r[1]);
    while (!flag) MPI_Test(&r[1], &flag, MPI_STATUS_IGNORE);
    go(4);
    MPI_Wait(&r[0], MPI_STATUS_IGNORE);
  } else if (rank == 1) {
    wait_go(4);
    MPI_Send(a, 3, MPI_INT, 0, 31, MPI_COMM_WORLD);
  } else
    MPI_Send(b, 3, MPI_INT, 0, 32, MPI_COMM_WORLD);
  MPI_Barrier(MPI_COMM_WORLD);

  if (rank == 0 && !bad) printf("wait_order ok\n");
  MPI_Finalize();
  return bad;
}
