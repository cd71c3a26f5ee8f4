! The observe-path pattern through `use mpi`: a ring of 5 x 100 integers, an Allreduce of 10
! doubles, ANY_SOURCE receives at rank 0 (with MPI_STATUS_IGNORE) and a split + Bcast.
program fortran_usempi
  use mpi
  implicit none
  integer :: rank, nranks, ierr, k, i, half, buf(100), inb(100), seen
  double precision :: x(10), y(10)
  call MPI_INIT(ierr)
  call MPI_COMM_RANK(MPI_COMM_WORLD, rank, ierr)
  call MPI_COMM_SIZE(MPI_COMM_WORLD, nranks, ierr)
  buf = rank
  do k = 1, 5
    if (mod(rank, 2) == 0) then
      call MPI_SEND(buf, 100, MPI_INTEGER, mod(rank + 1, nranks), k, MPI_COMM_WORLD, ierr)
      call MPI_RECV(inb, 100, MPI_INTEGER, mod(rank + nranks - 1, nranks), k, MPI_COMM_WORLD, MPI_STATUS_IGNORE, ierr)
    else
      call MPI_RECV(inb, 100, MPI_INTEGER, mod(rank + nranks - 1, nranks), k, MPI_COMM_WORLD, MPI_STATUS_IGNORE, ierr)
      call MPI_SEND(buf, 100, MPI_INTEGER, mod(rank + 1, nranks), k, MPI_COMM_WORLD, ierr)
    end if
    if (inb(1) /= mod(rank + nranks - 1, nranks)) call MPI_ABORT(MPI_COMM_WORLD, 3, ierr)
  end do
  x = rank
  call MPI_ALLREDUCE(x, y, 10, MPI_DOUBLE_PRECISION, MPI_SUM, MPI_COMM_WORLD, ierr)
  if (int(y(1)) /= nranks * (nranks - 1) / 2) call MPI_ABORT(MPI_COMM_WORLD, 4, ierr)
  if (rank == 0) then
    seen = 0
    do i = 1, nranks - 1
      call MPI_RECV(inb, 10, MPI_INTEGER, MPI_ANY_SOURCE, 99, MPI_COMM_WORLD, MPI_STATUS_IGNORE, ierr)
      seen = seen + inb(1)
    end do
    if (seen /= nranks * (nranks - 1) / 2) call MPI_ABORT(MPI_COMM_WORLD, 5, ierr)
  else
    call MPI_SEND(buf, 10, MPI_INTEGER, 0, 99, MPI_COMM_WORLD, ierr)
  end if
  call MPI_COMM_SPLIT(MPI_COMM_WORLD, mod(rank, 2), rank, half, ierr)
  buf = rank
  call MPI_BCAST(buf, 50, MPI_INTEGER, 0, half, ierr)
  if (buf(1) /= mod(rank, 2)) call MPI_ABORT(MPI_COMM_WORLD, 6, ierr)
  call MPI_COMM_FREE(half, ierr)
  if (rank == 0) print '(a)', 'fortran ok'
  call MPI_FINALIZE(ierr)
end program
