// MPI_Init / Init_thread / Finalize / Abort, in C and Fortran: they start and stop the recorder,
// so they are written by hand rather than generated.
#include <mpi.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <string>

#include "coll/cache.h"
#include "coll/dispatch.h"
#include "coll/nonblocking.h"
#include "coll/scratch.h"
#include "comms.h"
#include "config.h"
#include "fortran.h"
#include "library_defaults.h"
#include "recorder.h"
#include "sender.h"

#define SITEMPI_EXPORT __attribute__((visibility("default")))

namespace sitempi::shim {
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

// The queue's shape: the settings, or the defaults when together they would hold more than
// kMaxBufferBytes (said once, by rank 0: every rank decides the same).
void queue_shape(const Config& c, int rank, uint32_t& batch_records, uint32_t& queue_batches) {
  batch_records = c.batch_records;
  queue_batches = c.queue_batches;
  if (buffer_bytes(batch_records, queue_batches) <= kMaxBufferBytes) return;
  const Config d;
  if (rank == 0)
    fprintf(stderr,
            "sitempi: ignoring SITEMPI_BATCH_RECORDS=%u with SITEMPI_QUEUE_BATCHES=%u (%llu MiB per rank, more "
            "than %llu MiB); using %u and %u\n",
            batch_records, queue_batches, (unsigned long long)(buffer_bytes(batch_records, queue_batches) >> 20),
            (unsigned long long)(kMaxBufferBytes >> 20), d.batch_records, d.queue_batches);
  batch_records = d.batch_records;
  queue_batches = d.queue_batches;
}

// SITEMPI_JOB_KEY: 1 to 128 printable ASCII characters (it travels in the environment and in
// Hello; anything else is a mistake of the launcher). Never echoed: it is a secret.
std::string job_key(const Config& c, int rank) {
  bool ok = c.job_key.size() <= 128;
  for (char ch : c.job_key) ok = ok && ch >= 0x20 && ch <= 0x7e;
  if (ok) return c.job_key;
  if (rank == 0)
    fprintf(stderr,
            "sitempi: ignoring SITEMPI_JOB_KEY (expected 1 to 128 printable ASCII characters); the ranks "
            "connect without a job key\n");
  return "";
}

// After PMPI_Init(_thread): configuration, communicators, the sender thread.
void start_recording() {
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
    uint32_t batch_records, queue_batches;
    queue_shape(c, rank, batch_records, queue_batches);
    recorder_init_pool(batch_records, queue_batches);
    comms_init(rank);
    coll_init(rank, size);
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
    h.job_key = job_key(c, rank);
    h.program = program_name();
    sender_start(h);
    g_active.store(true);
    coll::set_recording(true);
    log("recording (job %s, %s)", c.job.c_str(), c.monitor.empty() ? "to files" : c.monitor.c_str());
    if (library_tick_set_us())
      log("set Open MPI's mpi_event_tick_rate to %u us (SITEMPI_TCP_TICK_US)", library_tick_set_us());
  } catch (...) {
    log("could not start recording; the application runs unobserved");
  }
}

// Finalize / Abort: flush and stop sending.
void stop_recording(bool aborting) {
  if (!g_started || g_stopped) return;
  g_stopped = true;
  coll::set_recording(false);
  if (!g_active.exchange(false)) return;
  flush_all_threads();
  sender_stop(aborting ? 200 : config().finalize_timeout_ms);
}

}  // namespace

// After a successful MPI_Init(_thread): start recording, then one record of the Init call itself
// (ticks t0..t1, before the clock's origin: stamped at the origin with its own duration), so that
// the monitor can report Init time apart from the application's MPI time.
void init_done(uint32_t fn, uint64_t t0, uint64_t t1) {
  start_recording();
  if (!enter() || t1 < t0) return;
  const uint64_t origin = g_clock.origin_ticks();
  append(fn | (kRoleOther << kRoleShift), -1, 0, 0, 0, origin, origin + (t1 - t0));
}

}  // namespace sitempi::shim

using namespace sitempi::shim;

namespace {

// The whole Finalize: its own record (it is MPI time), then the last flush.
template <typename F>
void finalize_with(F&& real) {
  sitempi::coll::nb_finalize();
  sitempi::coll::scratch_drop_all();  // after nb_finalize: pending collectives give theirs back
  if (!enter()) {
    real();
    return;
  }
  {
    Call call(FN_Finalize);
    real();
    call.stop();
    call.other();
  }
  stop_recording(false);
}

}  // namespace

extern "C" {

SITEMPI_EXPORT int MPI_Init(int* argc, char*** argv) {
  apply_library_defaults();
  const uint64_t t0 = ticks();
  const int rc = PMPI_Init(argc, argv);
  if (rc == MPI_SUCCESS) init_done(FN_Init, t0, ticks());
  return rc;
}

SITEMPI_EXPORT int MPI_Init_thread(int* argc, char*** argv, int required, int* provided) {
  apply_library_defaults();
  const uint64_t t0 = ticks();
  const int rc = PMPI_Init_thread(argc, argv, required, provided);
  if (rc == MPI_SUCCESS) init_done(FN_Init_thread, t0, ticks());
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
  stop_recording(true);  // best effort, bounded: what was recorded up to here
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
  static auto* real =
      reinterpret_cast<FInit*>(fortran_symbol(V ? "pmpi_init_f08_" : "pmpi_init_", V ? "mpi_init_f08_" : "mpi_init_"));
  apply_library_defaults();
  const uint64_t t0 = ticks();
  real(ierr);
  if (!ierr || *ierr == MPI_SUCCESS) init_done(FN_Init, t0, ticks());
}
template <int V>
void f_init_thread(MPI_Fint* required, MPI_Fint* provided, MPI_Fint* ierr) {
  static auto* real = reinterpret_cast<FInitThread*>(fortran_symbol(V ? "pmpi_init_thread_f08_" : "pmpi_init_thread_",
                                                                    V ? "mpi_init_thread_f08_" : "mpi_init_thread_"));
  apply_library_defaults();
  const uint64_t t0 = ticks();
  real(required, provided, ierr);
  if (!ierr || *ierr == MPI_SUCCESS) init_done(FN_Init_thread, t0, ticks());
}
template <int V>
void f_finalize(MPI_Fint* ierr) {
  static auto* real = reinterpret_cast<FFinalize*>(
      fortran_symbol(V ? "pmpi_finalize_f08_" : "pmpi_finalize_", V ? "mpi_finalize_f08_" : "mpi_finalize_"));
  finalize_with([&] { real(ierr); });
}
template <int V>
void f_abort(MPI_Fint* comm, MPI_Fint* errorcode, MPI_Fint* ierr) {
  static auto* real = reinterpret_cast<FAbort*>(
      fortran_symbol(V ? "pmpi_abort_f08_" : "pmpi_abort_", V ? "mpi_abort_f08_" : "mpi_abort_"));
  if (enter()) {
    Call call(FN_Abort);
    call.other(PMPI_Comm_f2c(*comm));
  }
  stop_recording(true);
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
                        (MPI_Fint * required, MPI_Fint* provided, MPI_Fint* ierr), (required, provided, ierr))
SITEMPI_FORTRAN_ENTRIES(mpi_finalize, MPI_FINALIZE, f_finalize, (MPI_Fint * ierr), (ierr))
SITEMPI_FORTRAN_ENTRIES(mpi_abort, MPI_ABORT, f_abort, (MPI_Fint * comm, MPI_Fint* errorcode, MPI_Fint* ierr),
                        (comm, errorcode, ierr))
}
