// Receive bytes as received (test/shim/recv-bytes.test.ts), 3 ranks: ranks 1 and 2 send to rank
// 0, which posts every receive for 1000 ints, more than arrives, and mostly ignores the statuses:
//   1. Irecv from each sender, Waitall                            10 and 20 ints, tag 1
//   2. two Irecv from MPI_ANY_SOURCE, Waitany                      30 and 40 ints, tag 2
//   3. Mprobe + Mrecv from 1; Improbe + Imrecv + Wait from 2       50 and 60 ints, tags 3 and 4
//   4. a persistent receive from 1 started 3 times                 3 x 70 ints, tag 5
//   5. Irecv from each sender, polled with Testsome                80 and 90 ints (Isend), tag 6
//   6. Sendrecv 0 <-> 1: 5 ints each way posted for 1000           tag 7
//   8. Irecv from 2 posted for exactly what arrives, Wait         100 ints, tag 8
//   7. two tags of one pair received in the opposite order of sending: rank 1 sends 2 ints with
//      tag 11, then 2000 with tag 12; rank 0 receives tag 12 first (Irecv), then tag 11 (Recv)
// Rank 0 checks every count it got against what was sent.
#include <mpi.h>
#include <stdio.h>

static void expect_count(MPI_Status* st, int want, const char* what) {
  int n = -1;
  MPI_Get_count(st, MPI_INT, &n);
  if (n != want) {
    fprintf(stderr, "recv_bytes: %s: %d ints, not %d\n", what, n, want);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size != 3) MPI_Abort(MPI_COMM_WORLD, 2);
  static int in[2][4000], out[4000];
  MPI_Request r[2];
  MPI_Status st;
  if (rank == 0) {
    // 1
    MPI_Irecv(in[0], 1000, MPI_INT, 1, 1, MPI_COMM_WORLD, &r[0]);
    MPI_Irecv(in[1], 1000, MPI_INT, 2, 1, MPI_COMM_WORLD, &r[1]);
    MPI_Waitall(2, r, MPI_STATUSES_IGNORE);
    // 2
    MPI_Irecv(in[0], 1000, MPI_INT, MPI_ANY_SOURCE, 2, MPI_COMM_WORLD, &r[0]);
    MPI_Irecv(in[1], 1000, MPI_INT, MPI_ANY_SOURCE, 2, MPI_COMM_WORLD, &r[1]);
    for (int k = 0, i; k < 2; k++) MPI_Waitany(2, r, &i, MPI_STATUS_IGNORE);
    // 3
    MPI_Message m;
    MPI_Mprobe(1, 3, MPI_COMM_WORLD, &m, &st);
    MPI_Mrecv(in[0], 1000, MPI_INT, &m, MPI_STATUS_IGNORE);
    int flag = 0;
    while (!flag) MPI_Improbe(2, 4, MPI_COMM_WORLD, &flag, &m, &st);
    MPI_Imrecv(in[1], 1000, MPI_INT, &m, &r[0]);
    MPI_Wait(&r[0], &st);
    expect_count(&st, 60, "Imrecv");
    // 4
    MPI_Request p;
    MPI_Recv_init(in[0], 1000, MPI_INT, 1, 5, MPI_COMM_WORLD, &p);
    for (int k = 0; k < 3; k++) {
      MPI_Start(&p);
      MPI_Wait(&p, k == 0 ? &st : MPI_STATUS_IGNORE);
    }
    expect_count(&st, 70, "persistent");
    MPI_Request_free(&p);
    // 5
    MPI_Irecv(in[0], 1000, MPI_INT, 1, 6, MPI_COMM_WORLD, &r[0]);
    MPI_Irecv(in[1], 1000, MPI_INT, 2, 6, MPI_COMM_WORLD, &r[1]);
    for (int done = 0; done < 2;) {
      int n, idx[2];
      MPI_Testsome(2, r, &n, idx, MPI_STATUSES_IGNORE);
      if (n != MPI_UNDEFINED) done += n;
    }
    // 6
    MPI_Sendrecv(out, 5, MPI_INT, 1, 7, in[0], 1000, MPI_INT, 1, 7, MPI_COMM_WORLD, &st);
    expect_count(&st, 5, "Sendrecv");
    // 8
    MPI_Irecv(in[1], 100, MPI_INT, 2, 8, MPI_COMM_WORLD, &r[0]);
    MPI_Wait(&r[0], &st);
    expect_count(&st, 100, "exact");
    // 7
    MPI_Irecv(in[1], 4000, MPI_INT, 1, 12, MPI_COMM_WORLD, &r[0]);
    MPI_Recv(in[0], 4000, MPI_INT, 1, 11, MPI_COMM_WORLD, &st);
    expect_count(&st, 2, "tag 11");
    MPI_Wait(&r[0], &st);
    expect_count(&st, 2000, "tag 12");
    printf("recv_bytes ok\n");
  } else {
    const int me = rank - 1;  // 0: rank 1, 1: rank 2
    MPI_Send(out, me ? 20 : 10, MPI_INT, 0, 1, MPI_COMM_WORLD);
    MPI_Send(out, me ? 40 : 30, MPI_INT, 0, 2, MPI_COMM_WORLD);
    MPI_Send(out, me ? 60 : 50, MPI_INT, 0, me ? 4 : 3, MPI_COMM_WORLD);
    if (!me)
      for (int k = 0; k < 3; k++) MPI_Send(out, 70, MPI_INT, 0, 5, MPI_COMM_WORLD);
    MPI_Isend(out, me ? 90 : 80, MPI_INT, 0, 6, MPI_COMM_WORLD, &r[0]);
    MPI_Wait(&r[0], MPI_STATUS_IGNORE);
    if (me) MPI_Send(out, 100, MPI_INT, 0, 8, MPI_COMM_WORLD);
    if (!me) {
      MPI_Sendrecv(out, 5, MPI_INT, 0, 7, in[0], 1000, MPI_INT, 0, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(out, 2, MPI_INT, 0, 11, MPI_COMM_WORLD);
      MPI_Send(out, 2000, MPI_INT, 0, 12, MPI_COMM_WORLD);
    }
  }
  MPI_Finalize();
  return 0;
}
