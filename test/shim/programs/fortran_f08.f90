! The observe-path pattern through `use mpi_f08` (same traffic as fortran_mpif.f90).
program fortran_f08
  use mpi_f08
  implicit none
  integer :: rank, nranks, k, i, buf(100), inb(100), seen
  double precision :: x(10), y(10)
  type(MPI_Comm) :: half
  call MPI_Init()
  call MPI_Comm_rank(MPI_COMM_WORLD, rank)
  call MPI_Comm_size(MPI_COMM_WORLD, nranks)
  buf = rank
  do k = 1, 5
    if (mod(rank, 2) == 0) then
      call MPI_Send(buf, 100, MPI_INTEGER, mod(rank + 1, nranks), k, MPI_COMM_WORLD)
      call MPI_Recv(inb, 100, MPI_INTEGER, mod(rank + nranks - 1, nranks), k, MPI_COMM_WORLD, MPI_STATUS_IGNORE)
    else
      call MPI_Recv(inb, 100, MPI_INTEGER, mod(rank + nranks - 1, nranks), k, MPI_COMM_WORLD, MPI_STATUS_IGNORE)
      call MPI_Send(buf, 100, MPI_INTEGER, mod(rank + 1, nranks), k, MPI_COMM_WORLD)
    end if
    if (inb(1) /= mod(rank + nranks - 1, nranks)) call MPI_Abort(MPI_COMM_WORLD, 3)
  end do
  x = rank
  call MPI_Allreduce(x, y, 10, MPI_DOUBLE_PRECISION, MPI_SUM, MPI_COMM_WORLD)
  if (int(y(1)) /= nranks * (nranks - 1) / 2) call MPI_Abort(MPI_COMM_WORLD, 4)
  if (rank == 0) then
    seen = 0
    do i = 1, nranks - 1
      call MPI_Recv(inb, 10, MPI_INTEGER, MPI_ANY_SOURCE, 99, MPI_COMM_WORLD, MPI_STATUS_IGNORE)
      seen = seen + inb(1)
    end do
    if (seen /= nranks * (nranks - 1) / 2) call MPI_Abort(MPI_COMM_WORLD, 5)
  else
    call MPI_Send(buf, 10, MPI_INTEGER, 0, 99, MPI_COMM_WORLD)
  end if
  call MPI_Comm_split(MPI_COMM_WORLD, mod(rank, 2), rank, half)
  buf = rank
  call MPI_Bcast(buf, 50, MPI_INTEGER, 0, half)
  if (buf(1) /= mod(rank, 2)) call MPI_Abort(MPI_COMM_WORLD, 6)
  call MPI_Comm_free(half)
  if (rank == 0) print '(a)', 'fortran ok'
  call MPI_Finalize()
end program
