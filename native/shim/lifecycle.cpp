// MPI_Init / Init_thread / Finalize / Abort, in C and Fortran: they start and stop the recorder,
// so they are written by hand rather than generated.
#include <dlfcn.h>
#include <mpi.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>

#include "comms.h"
#include "config.h"
#include "fortran.h"
#include "recorder.h"
#include "sender.h"

#define SITEMPI_EXPORT __attribute__((visibility("default")))

namespace sitempi::shim {

extern TickClock g_clock;
void set_log_rank(int rank);

namespace {

bool g_started = false;
bool g_stopped = false;

std::string program_name() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  buf[n] = 0;
  return buf;
}

}  // namespace

void* fortran_symbol(const char* name, const char* fallback) {
  if (void* p = dlsym(RTLD_DEFAULT, name)) return p;
  return dlsym(RTLD_NEXT, fallback);
}

const FortranSentinels& fortran_sentinels() {
  static const FortranSentinels s = [] {
    FortranSentinels r;
    r.in_place = dlsym(RTLD_DEFAULT, "mpi_fortran_in_place_");
    r.bottom = dlsym(RTLD_DEFAULT, "mpi_fortran_bottom_");
    r.status_ignore = dlsym(RTLD_DEFAULT, "mpi_fortran_status_ignore_");
    r.statuses_ignore = dlsym(RTLD_DEFAULT, "mpi_fortran_statuses_ignore_");
    // Absent symbols must not compare equal to a null argument.
    if (!r.in_place) r.in_place = &r;
    if (!r.bottom) r.bottom = &r;
    if (!r.status_ignore) r.status_ignore = &r;
    if (!r.statuses_ignore) r.statuses_ignore = &r;
    return r;
  }();
  return s;
}

// After PMPI_Init(_thread): configuration, communicators, the sender thread.
void recorder_start(int, int) {
  if (g_started) return;
  g_started = true;
  const Config& c = config();
  if (c.disabled) return;
  int rank = 0, size = 1;
  PMPI_Comm_rank(MPI_COMM_WORLD, &rank);
  PMPI_Comm_size(MPI_COMM_WORLD, &size);
  set_log_rank(rank);
  report_unusable_settings(c, rank);
  try {
    g_clock.set_origin();
    recorder_init_pool(c.batch_records, c.queue_batches);
    comms_init(rank, size);
    wire::Hello h;
    h.job = c.job;
    h.rank = uint32_t(rank);
    h.size = uint32_t(size);
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    h.host = host;
    h.pid = uint32_t(getpid());
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    h.start_ns = uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
    h.token = c.token;
    h.program = program_name();
    sender_start(h);
    g_active.store(true);
    log("recording (job %s, %s)", c.job.c_str(), c.monitor.empty() ? "to files" : c.monitor.c_str());
  } catch (...) {
    log("could not start recording; the application runs unobserved");
  }
}

void recorder_stop(bool aborting) {
  if (!g_started || g_stopped) return;
  g_stopped = true;
  if (!g_active.exchange(false)) return;
  flush_all_threads();
  sender_stop(aborting ? 200 : config().finalize_timeout_ms);
}

}  // namespace sitempi::shim

using namespace sitempi::shim;

namespace {

// The whole Finalize: its own record (it is MPI time), then the last flush.
template <typename F>
void finalize_with(F&& real) {
  if (!enter()) { real(); return; }
  {
    Call call(FN_Finalize);
    real();
    call.other();
  }
  recorder_stop(false);
}

}  // namespace

extern "C" {

SITEMPI_EXPORT int MPI_Init(int* argc, char*** argv) {
  const int rc = PMPI_Init(argc, argv);
  if (rc == MPI_SUCCESS) recorder_start(0, 0);
  return rc;
}

SITEMPI_EXPORT int MPI_Init_thread(int* argc, char*** argv, int required, int* provided) {
  const int rc = PMPI_Init_thread(argc, argv, required, provided);
  if (rc == MPI_SUCCESS) recorder_start(0, 0);
  return rc;
}

SITEMPI_EXPORT int MPI_Finalize(void) {
  int rc = MPI_SUCCESS;
  finalize_with([&] { rc = PMPI_Finalize(); });
  return rc;
}

SITEMPI_EXPORT int MPI_Abort(MPI_Comm comm, int errorcode) {
  if (enter()) {
    Call call(FN_Abort);
    call.other(comm);
  }
  recorder_stop(true);  // best effort, bounded: what was recorded up to here
  return PMPI_Abort(comm, errorcode);
}

}  // extern "C"

// Fortran: the library's Fortran PMPI routine does the work; the recorder starts after it.
namespace {
using FInit = void(MPI_Fint*);
using FInitThread = void(MPI_Fint*, MPI_Fint*, MPI_Fint*);
using FFinalize = void(MPI_Fint*);
using FAbort = void(MPI_Fint*, MPI_Fint*, MPI_Fint*);

template <int V>
void f_init(MPI_Fint* ierr) {
  static auto* real = reinterpret_cast<FInit*>(fortran_symbol(V ? "pmpi_init_f08_" : "pmpi_init_", V ? "mpi_init_f08_" : "mpi_init_"));
  real(ierr);
  if (!ierr || *ierr == MPI_SUCCESS) recorder_start(0, 0);
}
template <int V>
void f_init_thread(MPI_Fint* required, MPI_Fint* provided, MPI_Fint* ierr) {
  static auto* real = reinterpret_cast<FInitThread*>(
      fortran_symbol(V ? "pmpi_init_thread_f08_" : "pmpi_init_thread_", V ? "mpi_init_thread_f08_" : "mpi_init_thread_"));
  real(required, provided, ierr);
  if (!ierr || *ierr == MPI_SUCCESS) recorder_start(0, 0);
}
template <int V>
void f_finalize(MPI_Fint* ierr) {
  static auto* real = reinterpret_cast<FFinalize*>(
      fortran_symbol(V ? "pmpi_finalize_f08_" : "pmpi_finalize_", V ? "mpi_finalize_f08_" : "mpi_finalize_"));
  finalize_with([&] { real(ierr); });
}
template <int V>
void f_abort(MPI_Fint* comm, MPI_Fint* errorcode, MPI_Fint* ierr) {
  static auto* real = reinterpret_cast<FAbort*>(fortran_symbol(V ? "pmpi_abort_f08_" : "pmpi_abort_", V ? "mpi_abort_f08_" : "mpi_abort_"));
  if (enter()) {
    Call call(FN_Abort);
    call.other(PMPI_Comm_f2c(*comm));
  }
  recorder_stop(true);
  real(comm, errorcode, ierr);
}
}  // namespace

// Every name mangling of mpif.h / `use mpi`, and `use mpi_f08`.
#define SITEMPI_FORTRAN_ENTRIES(lower, UPPER, impl, params, args) \
  SITEMPI_EXPORT void lower##_ params { impl<0> args; }           \
  SITEMPI_EXPORT void lower##__ params { impl<0> args; }          \
  SITEMPI_EXPORT void lower params { impl<0> args; }              \
  SITEMPI_EXPORT void UPPER params { impl<0> args; }              \
  SITEMPI_EXPORT void lower##_f08_ params { impl<1> args; }

extern "C" {
SITEMPI_FORTRAN_ENTRIES(mpi_init, MPI_INIT, f_init, (MPI_Fint * ierr), (ierr))
SITEMPI_FORTRAN_ENTRIES(mpi_init_thread, MPI_INIT_THREAD, f_init_thread,
                        (MPI_Fint * required, MPI_Fint * provided, MPI_Fint * ierr), (required, provided, ierr))
SITEMPI_FORTRAN_ENTRIES(mpi_finalize, MPI_FINALIZE, f_finalize, (MPI_Fint * ierr), (ierr))
SITEMPI_FORTRAN_ENTRIES(mpi_abort, MPI_ABORT, f_abort, (MPI_Fint * comm, MPI_Fint * errorcode, MPI_Fint * ierr),
                        (comm, errorcode, ierr))
}
