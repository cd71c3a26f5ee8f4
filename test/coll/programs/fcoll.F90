! Every collective the shim runs site-aware, called from Fortran, with results checked against
! formulas. One source, three bindings: mpif.h (default), -DUSE_MPI (use mpi), -DF08 (mpi_f08).
! Prints "fcoll ok" on rank 0, or "fcoll MISMATCH <what> rank <r>" lines and "fcoll errors N".
#if defined(F08)
module fcoll_ops
  use, intrinsic :: iso_c_binding
  use mpi_f08
  implicit none
contains
  ! max(|a|, |b|) elementwise: a user-defined commutative operation
  subroutine absmax(invec, inoutvec, len, datatype)
    type(c_ptr), value :: invec, inoutvec
    integer :: len
    type(MPI_Datatype) :: datatype
    integer, pointer :: a(:), b(:)
    call c_f_pointer(invec, a, [len])
    call c_f_pointer(inoutvec, b, [len])
    b = max(abs(a), abs(b))
  end subroutine absmax
end module fcoll_ops
#endif

program fcoll
#if defined(F08)
  use mpi_f08
  use fcoll_ops
#elif defined(USE_MPI)
  use mpi
#endif
  implicit none
#if !defined(F08) && !defined(USE_MPI)
  include 'mpif.h'
#endif
#if defined(F08)
  type(MPI_Op) :: op
#else
  integer :: op
  external absmax
#endif
  integer :: rank, np, ierr, i, j, k, bad, total
  integer :: a(64), b(64), c(64), counts(16), displs(16), rcounts(16), rdispls(16)
  double precision :: x(5)

  call MPI_INIT(ierr)
  call MPI_COMM_RANK(MPI_COMM_WORLD, rank, ierr)
  call MPI_COMM_SIZE(MPI_COMM_WORLD, np, ierr)
  bad = 0
  do j = 0, np - 1
    counts(j + 1) = j + 1
    displs(j + 1) = j * (j + 1) / 2
  end do

  call MPI_BARRIER(MPI_COMM_WORLD, ierr)
  call check('barrier', ierr == MPI_SUCCESS)

  a = -1
  if (rank == np - 1) a(1:7) = [(100 + i, i = 1, 7)]
  call MPI_BCAST(a, 7, MPI_INTEGER, np - 1, MPI_COMM_WORLD, ierr)
  call check('bcast', all(a(1:7) == [(100 + i, i = 1, 7)]))

  a(1:5) = [(rank * i, i = 1, 5)]
  b = 0
  call MPI_REDUCE(a, b, 5, MPI_INTEGER, MPI_SUM, 1, MPI_COMM_WORLD, ierr)
  if (rank == 1) call check('reduce', all(b(1:5) == [(i * np * (np - 1) / 2, i = 1, 5)]))

  x = [(dble(rank + i), i = 1, 5)]
  call MPI_ALLREDUCE(MPI_IN_PLACE, x, 5, MPI_DOUBLE_PRECISION, MPI_MAX, MPI_COMM_WORLD, ierr)
  call check('allreduce in place', all(x == [(dble(np - 1 + i), i = 1, 5)]))

  call MPI_OP_CREATE(absmax, .true., op, ierr)
  a(1:3) = [-rank, rank, -2 * rank]
  call MPI_ALLREDUCE(a, b, 3, MPI_INTEGER, op, MPI_COMM_WORLD, ierr)
  call check('allreduce user op', all(b(1:3) == [np - 1, np - 1, 2 * (np - 1)]))
  call MPI_OP_FREE(op, ierr)

  a(1:3) = [rank, rank * 10, rank * 100]
  call MPI_GATHER(a, 3, MPI_INTEGER, b, 3, MPI_INTEGER, 0, MPI_COMM_WORLD, ierr)
  if (rank == 0) call check('gather', all([((b(3 * j + i) == j * 10**(i - 1), i = 1, 3), j = 0, np - 1)]))

  ! Rank j contributes j+1 copies of j; the root (2) gives its own in place.
  b = -1
  a(1:rank + 1) = rank
  if (rank == 2) then
    b(displs(3) + 1:displs(3) + 3) = 2
    call MPI_GATHERV(MPI_IN_PLACE, 0, MPI_INTEGER, b, counts, displs, MPI_INTEGER, 2, MPI_COMM_WORLD, ierr)
    call check('gatherv in place', all([((b(displs(j + 1) + i) == j, i = 1, j + 1), j = 0, np - 1)]))
  else
    call MPI_GATHERV(a, rank + 1, MPI_INTEGER, b, counts, displs, MPI_INTEGER, 2, MPI_COMM_WORLD, ierr)
  end if

  c = [(k, k = 1, 64)]
  b = -1
  call MPI_SCATTER(c, 2, MPI_INTEGER, b, 2, MPI_INTEGER, 1, MPI_COMM_WORLD, ierr)
  call check('scatter', all(b(1:2) == [2 * rank + 1, 2 * rank + 2]))

  b = -1
  call MPI_SCATTERV(c, counts, displs, MPI_INTEGER, b, rank + 1, MPI_INTEGER, 0, MPI_COMM_WORLD, ierr)
  call check('scatterv', all(b(1:rank + 1) == [(displs(rank + 1) + i, i = 1, rank + 1)]))

  a(1:2) = [rank, -rank]
  call MPI_ALLGATHER(a, 2, MPI_INTEGER, b, 2, MPI_INTEGER, MPI_COMM_WORLD, ierr)
  call check('allgather', all([((b(2 * j + i) == j * (3 - 2 * i), i = 1, 2), j = 0, np - 1)]))

  a(1:rank + 1) = rank
  b = -1
  call MPI_ALLGATHERV(a, rank + 1, MPI_INTEGER, b, counts, displs, MPI_INTEGER, MPI_COMM_WORLD, ierr)
  call check('allgatherv', all([((b(displs(j + 1) + i) == j, i = 1, j + 1), j = 0, np - 1)]))

  a(1:np) = [(rank * 100 + j, j = 0, np - 1)]
  call MPI_ALLTOALL(a, 1, MPI_INTEGER, b, 1, MPI_INTEGER, MPI_COMM_WORLD, ierr)
  call check('alltoall', all(b(1:np) == [(j * 100 + rank, j = 0, np - 1)]))

  ! Rank r sends mod(r + j, 3) + 1 copies of r*100 + j to rank j.
  k = 0
  do j = 0, np - 1
    counts(j + 1) = mod(rank + j, 3) + 1
    displs(j + 1) = k
    a(k + 1:k + counts(j + 1)) = rank * 100 + j
    k = k + counts(j + 1)
  end do
  k = 0
  do j = 0, np - 1
    rcounts(j + 1) = mod(j + rank, 3) + 1
    rdispls(j + 1) = k
    k = k + rcounts(j + 1)
  end do
  b = -1
  call MPI_ALLTOALLV(a, counts, displs, MPI_INTEGER, b, rcounts, rdispls, MPI_INTEGER, MPI_COMM_WORLD, ierr)
  call check('alltoallv', all([((b(rdispls(j + 1) + i) == j * 100 + rank, i = 1, rcounts(j + 1)), j = 0, np - 1)]))

  call MPI_ALLREDUCE(bad, total, 1, MPI_INTEGER, MPI_SUM, MPI_COMM_WORLD, ierr)
  if (rank == 0 .and. total == 0) print '(a)', 'fcoll ok'
  if (rank == 0 .and. total /= 0) print '(a,i0)', 'fcoll errors ', total
  call MPI_FINALIZE(ierr)

contains

  subroutine check(what, ok)
    character(*), intent(in) :: what
    logical, intent(in) :: ok
    if (.not. ok) then
      print '(a,a,a,i0)', 'fcoll MISMATCH ', what, ' rank ', rank
      bad = bad + 1
    end if
  end subroutine check

end program fcoll

#if !defined(F08)
! max(|a|, |b|) elementwise: a user-defined commutative operation
subroutine absmax(invec, inoutvec, len, datatype)
  implicit none
  integer :: len, datatype
  integer :: invec(len), inoutvec(len)
  inoutvec = max(abs(invec), abs(inoutvec))
end subroutine absmax
#endif
