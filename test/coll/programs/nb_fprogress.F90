! Fortran blocking calls while a site-aware non-blocking collective is pending: the Iallreduce
! starts through the C binding (a mixed-language code; Fortran's own MPI_IALLREDUCE is the
! library's), then one rank of each pair blocks in a Fortran call that returns only after its
! partner's MPI_WAIT on the Iallreduce has, which needs the blocked rank's chain advanced (a site's
! leader). Pairs (2k, 2k+1): the even rank blocks, the odd one waits first. Scenarios: recv
! (MPI_RECV), wait (MPI_WAIT on an MPI_IRECV), ssend, probe, sendrecv, mprobe (MPI_MPROBE +
! MPI_MRECV), and blocking collectives over MPI_COMM_WORLD: barrier, bcast, allreduce (site-aware). One source, three bindings: mpif.h (default), -DUSE_MPI, -DF08. Rank 0 prints
! "nb_fprogress ok SCENARIO" after each, and "nb_fprogress done errors=E" at the end.
! Usage: nb_fprogress COUNT
program nb_fprogress
  use, intrinsic :: iso_c_binding
#if defined(F08)
  use mpi_f08
#elif defined(USE_MPI)
  use mpi
#endif
  implicit none
#if !defined(F08) && !defined(USE_MPI)
  include 'mpif.h'
#endif
  interface
    function c_comm_f2c(f) bind(C, name='MPI_Comm_f2c') result(c)
      import :: c_int, c_ptr
      integer(c_int), value :: f
      type(c_ptr) :: c
    end function c_comm_f2c
    function c_type_f2c(f) bind(C, name='MPI_Type_f2c') result(c)
      import :: c_int, c_ptr
      integer(c_int), value :: f
      type(c_ptr) :: c
    end function c_type_f2c
    function c_op_f2c(f) bind(C, name='MPI_Op_f2c') result(c)
      import :: c_int, c_ptr
      integer(c_int), value :: f
      type(c_ptr) :: c
    end function c_op_f2c
    function c_iallreduce(sb, rb, n, t, op, comm, req) bind(C, name='MPI_Iallreduce') result(rc)
      import :: c_int, c_ptr
      type(c_ptr), value :: sb, rb, t, op, comm
      integer(c_int), value :: n
      type(c_ptr) :: req
      integer(c_int) :: rc
    end function c_iallreduce
    function c_request_c2f(r) bind(C, name='MPI_Request_c2f') result(f)
      import :: c_int, c_ptr
      type(c_ptr), value :: r
      integer(c_int) :: f
    end function c_request_c2f
  end interface
#if defined(F08)
  type(MPI_Request) :: req, r2
  type(MPI_Status) :: st
  type(MPI_Message) :: msg
#define HVAL(h) h%MPI_VAL
#define SRC(s) s%MPI_SOURCE
#else
  integer :: req, r2
  integer :: st(MPI_STATUS_SIZE)
  integer :: msg
#define HVAL(h) h
#define SRC(s) s(MPI_SOURCE)
#endif
  real(c_double), allocatable, target :: buf(:), res(:)
  character(len=16) :: arg
  character(len=9), parameter :: scenarios(9) = [character(len=9) :: 'recv', 'wait', 'ssend', 'probe', &
                                                  'sendrecv', 'mprobe', 'barrier', 'bcast', 'allreduce']
  integer :: rank, np, ierr, n, i, k, peer, v, got, errors, total
  type(c_ptr) :: creq

  call MPI_Init(ierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
  call MPI_Comm_size(MPI_COMM_WORLD, np, ierr)
  call get_command_argument(1, arg)
  read (arg, *) n
  allocate (buf(n), res(n))
  errors = 0
  peer = merge(rank + 1, rank - 1, mod(rank, 2) == 0)
  do k = 1, size(scenarios)
    do i = 1, n
      buf(i) = rank + i
    end do
    res = 0
    ierr = c_iallreduce(c_loc(buf), c_loc(res), n, c_type_f2c(HVAL(MPI_DOUBLE_PRECISION)), c_op_f2c(HVAL(MPI_SUM)), &
                        c_comm_f2c(HVAL(MPI_COMM_WORLD)), creq)
    HVAL(req) = c_request_c2f(creq)
    v = rank
    got = -1
    if (peer >= np) then
      call MPI_Wait(req, MPI_STATUS_IGNORE, ierr)
    else if (mod(rank, 2) == 0) then
      select case (trim(scenarios(k)))
      case ('recv')
        call MPI_Recv(got, 1, MPI_INTEGER, peer, 7, MPI_COMM_WORLD, st, ierr)
        if (SRC(st) /= peer) errors = errors + 1
      case ('wait')
        call MPI_Irecv(got, 1, MPI_INTEGER, peer, 7, MPI_COMM_WORLD, r2, ierr)
        call MPI_Wait(r2, st, ierr)
      case ('ssend')
        call MPI_Ssend(v, 1, MPI_INTEGER, peer, 7, MPI_COMM_WORLD, ierr)
        got = peer
      case ('probe')
        call MPI_Probe(peer, 7, MPI_COMM_WORLD, st, ierr)
        call MPI_Recv(got, 1, MPI_INTEGER, peer, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE, ierr)
      case ('sendrecv')
        call MPI_Sendrecv(v, 1, MPI_INTEGER, peer, 7, got, 1, MPI_INTEGER, peer, 7, MPI_COMM_WORLD, st, ierr)
      case ('mprobe')
        call MPI_Mprobe(peer, 7, MPI_COMM_WORLD, msg, st, ierr)
        call MPI_Mrecv(got, 1, MPI_INTEGER, msg, st, ierr)
      case default
        call collective(scenarios(k))
        got = peer
      end select
      if (got /= peer .or. ierr /= MPI_SUCCESS) errors = errors + 1
      call MPI_Wait(req, MPI_STATUS_IGNORE, ierr)
    else
      call MPI_Wait(req, MPI_STATUS_IGNORE, ierr)
      select case (trim(scenarios(k)))
      case ('ssend')
        call MPI_Recv(got, 1, MPI_INTEGER, peer, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE, ierr)
      case ('sendrecv')
        call MPI_Sendrecv(v, 1, MPI_INTEGER, peer, 7, got, 1, MPI_INTEGER, peer, 7, MPI_COMM_WORLD, &
                          MPI_STATUS_IGNORE, ierr)
      case ('barrier', 'bcast', 'allreduce')
        call collective(scenarios(k))
      case default
        call MPI_Send(v, 1, MPI_INTEGER, peer, 7, MPI_COMM_WORLD, ierr)
      end select
    end if
    do i = 1, n
      if (res(i) /= dble(np) * i + np * (np - 1) / 2.0d0) then
        errors = errors + 1
        exit
      end if
    end do
    if (rank == 0) print '(a,a)', 'nb_fprogress ok ', trim(scenarios(k))
  end do
  call MPI_Allreduce(errors, total, 1, MPI_INTEGER, MPI_SUM, MPI_COMM_WORLD, ierr)
  if (rank == 0) print '(a,i0)', 'nb_fprogress done errors=', total
  call MPI_Finalize(ierr)
contains
  ! A blocking collective over MPI_COMM_WORLD (the even ranks call it before their wait, the odd
  ! ones after): Fortran's blocking collectives pass the gate as C's do.
  subroutine collective(what)
    character(len=*), intent(in) :: what
    integer :: x, y
    x = 1
    y = 0
    select case (trim(what))
    case ('barrier')
      call MPI_Barrier(MPI_COMM_WORLD, ierr)
      y = np
    case ('bcast')
      y = merge(np, 0, rank == np - 1)
      call MPI_Bcast(y, 1, MPI_INTEGER, np - 1, MPI_COMM_WORLD, ierr)
    case ('allreduce')
      call MPI_Allreduce(x, y, 1, MPI_INTEGER, MPI_SUM, MPI_COMM_WORLD, ierr)
    end select
    if (y /= np .or. ierr /= MPI_SUCCESS) errors = errors + 1
  end subroutine collective
end program nb_fprogress
