#include "config.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

namespace sitempi::shim {
namespace {

Config g_config;
bool g_loaded = false;
int g_rank_for_log = -1;

std::string env(const char* name, const std::string& fallback = "") {
  const char* v = getenv(name);
  return v && *v ? std::string(v) : fallback;
}

// A switch that is on unless set to 0/false/no/off.
bool env_flag_on(const char* name) {
  std::string v = env(name);
  return !(v == "0" || v == "false" || v == "no" || v == "off");
}

}  // namespace

uint32_t env_u32(const char* name, uint32_t fallback, uint32_t lo, uint32_t hi) {
  const char* v = getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  unsigned long x = strtoul(v, &end, 10);
  if (*end || x < lo || x > hi) {
    // Not silent: a typo in a tuning knob should be visible even without SITEMPI_VERBOSE.
    fprintf(stderr, "sitempi: ignoring %s=%s (expected an integer in %u..%u)\n", name, v, lo, hi);
    return fallback;
  }
  return uint32_t(x);
}

bool env_flag(const char* name) {
  std::string v = env(name);
  return v == "1" || v == "true" || v == "yes" || v == "on";
}

Config Config::from_env() {
  Config c;
  c.disabled = env_flag("SITEMPI_DISABLE");
  c.monitor = env("SITEMPI_MONITOR");
  c.token = env("SITEMPI_TOKEN");
  c.job_key = env("SITEMPI_JOB_KEY");
  c.job = env("SITEMPI_JOB", env("PMIX_NAMESPACE", env("OMPI_MCA_ess_base_jobid")));
  if (c.job.empty()) c.job = "pid" + std::to_string(getppid());
  c.output_dir = env("SITEMPI_OUTPUT_DIR", ".");
  c.batch_records = env_u32("SITEMPI_BATCH_RECORDS", c.batch_records, 16, 1u << 20);
  c.queue_batches = env_u32("SITEMPI_QUEUE_BATCHES", c.queue_batches, 2, 1u << 16);
  c.flush_ms = env_u32("SITEMPI_FLUSH_MS", c.flush_ms, 1, 3600000);
  c.finalize_timeout_ms = env_u32("SITEMPI_FINALIZE_TIMEOUT_MS", c.finalize_timeout_ms, 0, 600000);
  c.connect_timeout_ms = env_u32("SITEMPI_CONNECT_TIMEOUT_MS", c.connect_timeout_ms, 1, 600000);
  c.backoff_max_ms = env_u32("SITEMPI_BACKOFF_MAX_MS", c.backoff_max_ms, 1, 3600000);
  c.sender_cpus = env("SITEMPI_SENDER_CPUS");
  c.local_ranks = launcher_local_ranks();
  c.verbose = env_flag("SITEMPI_VERBOSE");
  c.sites = env("SITEMPI_SITES");
  c.sites_file = env("SITEMPI_SITES_FILE");
  c.coll = env("SITEMPI_COLL");
  c.coll_alpha_us = env_u32("SITEMPI_COLL_ALPHA_US", c.coll_alpha_us, 0, 100000000);
  c.coll_chunk_bytes = env_u32("SITEMPI_COLL_CHUNK_BYTES", c.coll_chunk_bytes, 0, 1u << 30);
  c.coll_segment_bytes = env_u32("SITEMPI_COLL_SEGMENT_BYTES", c.coll_segment_bytes, 0, 1u << 30);
  c.coll_reduce_segments = env_u32("SITEMPI_COLL_REDUCE_SEGMENTS", c.coll_reduce_segments, 8, 4096);
  c.coll_pace_bytes = env_u32("SITEMPI_COLL_PACE_BYTES", c.coll_pace_bytes, 0, 0xffffffffu);
  c.coll_nonblocking = env_flag_on("SITEMPI_COLL_NONBLOCKING");
  c.coll_packed = env_flag("SITEMPI_COLL_PACKED");
  c.coll_spread = env_flag_on("SITEMPI_COLL_SPREAD");
  c.coll_pace_rate = env_flag_on("SITEMPI_COLL_PACE_RATE");
  if (!env("OMPI_MCA_mpi_yield_when_idle").empty()) c.yield_when_idle = env_flag("OMPI_MCA_mpi_yield_when_idle");
  c.coll_handoff_us = env_u32("SITEMPI_COLL_HANDOFF_US", c.coll_handoff_us, 0, 100000);
  c.coll_alltoall = env("SITEMPI_COLL_ALLTOALL");
  c.coll_small_bytes = env_u32("SITEMPI_COLL_SMALL", c.coll_small_bytes, 0, 1u << 30);
  c.coll_scratch_bytes = env_u32("SITEMPI_COLL_SCRATCH_BYTES", c.coll_scratch_bytes, 0, 0xffffffffu);
  c.coll_bandwidth_mbps = env_u32("SITEMPI_COLL_BANDWIDTH_MBPS", c.coll_bandwidth_mbps, 1, 100000000);
  c.checkpoint_every = env_u32("SITEMPI_CHECKPOINT_EVERY", c.checkpoint_every, 0, 1u << 20);
  return c;
}

int launcher_local_ranks() {
  return int(env_u32("OMPI_COMM_WORLD_LOCAL_SIZE", env_u32("MPI_LOCALNRANKS", 0, 0, 1u << 24), 0, 1u << 24));
}

int launcher_world_ranks() {
  return int(env_u32("OMPI_COMM_WORLD_SIZE", env_u32("PMI_SIZE", 0, 0, 1u << 24), 0, 1u << 24));
}

const Config& config() {
  if (!g_loaded) {
    g_config = Config::from_env();
    g_loaded = true;
  }
  return g_config;
}

std::string parse_monitor_address(const std::string& url, MonitorAddress& out) {
  constexpr const char* kForms = "expected tcp://host:port or unix:/path";
  out = MonitorAddress{};
  if (url.rfind("unix:", 0) == 0) {
    out.unix_socket = true;
    out.path = url.substr(5);
    if (out.path.empty()) return std::string("the socket path is empty (") + kForms + ")";
    if (out.path.size() > 107) return "the socket path is longer than 107 bytes";
    return "";
  }
  // tcp://HOST:PORT, or HOST:PORT without the scheme; no other scheme.
  const bool tcp = url.rfind("tcp://", 0) == 0;
  if (!tcp && url.find("://") != std::string::npos) return std::string("not an address (") + kForms + ")";
  const std::string hp = tcp ? url.substr(6) : url;
  const size_t colon = hp.rfind(':');
  if (colon == std::string::npos) return std::string(tcp ? "no port (" : "not an address (") + kForms + ")";
  std::string host = hp.substr(0, colon), port = hp.substr(colon + 1);
  if (host.empty() || host == "[]") return std::string("no host (") + kForms + ")";
  for (char ch : host)
    if (ch == '/' || ch == '@' || isspace(static_cast<unsigned char>(ch))) return "bad host name '" + host + "'";
  unsigned long p = 0;
  bool digits = !port.empty() && port.size() <= 5;
  for (char ch : port) digits = digits && isdigit(static_cast<unsigned char>(ch));
  if (digits) p = strtoul(port.c_str(), nullptr, 10);
  if (!digits || p < 1 || p > 65535) return "port '" + port + "' is not in 1..65535";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  out.host = host;
  out.port = port;
  return "";
}

void report_unusable_settings(const Config& c, int world_rank) {
  if (world_rank != 0 || c.disabled) return;
  if (!c.monitor.empty()) {
    MonitorAddress unused;
    const std::string why = parse_monitor_address(c.monitor, unused);
    if (!why.empty())
      fprintf(stderr, "sitempi: SITEMPI_MONITOR=%s is unusable: %s; nothing of this job is recorded\n",
              c.monitor.c_str(), why.c_str());
    return;
  }
  // File mode: this rank's view of the directory (a directory that differs between nodes is seen
  // by the ranks that fail to write, with SITEMPI_VERBOSE).
  struct stat st;
  const char* why = nullptr;
  if (stat(c.output_dir.c_str(), &st) != 0)
    why = strerror(errno);
  else if (!S_ISDIR(st.st_mode))
    why = "not a directory";
  else if (access(c.output_dir.c_str(), W_OK | X_OK) != 0)
    why = strerror(errno);
  if (why)
    fprintf(stderr,
            "sitempi: SITEMPI_OUTPUT_DIR=%s is not a writable directory (%s); nothing of this job is recorded\n",
            c.output_dir.c_str(), why);
}

void set_log_rank(int rank) { g_rank_for_log = rank; }

void log(const char* fmt, ...) {
  if (!config().verbose) return;
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  fprintf(stderr, "[sitempi %d] %s\n", g_rank_for_log, buf);
}

}  // namespace sitempi::shim
