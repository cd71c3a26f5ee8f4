// The shim's configuration, read once at MPI_Init from SITEMPI_* environment variables
// (documented in docs/configuration.md, "The shim").
#pragma once
#include <cstdint>
#include <string>

namespace sitempi::shim {

struct Config {
  bool disabled = false;                // SITEMPI_DISABLE=1: pass everything through, record nothing
  std::string monitor;                  // SITEMPI_MONITOR: tcp://host:port or unix:/path; empty: files
  std::string token;                    // SITEMPI_TOKEN
  std::string job_key;                  // SITEMPI_JOB_KEY: the launcher's per-job secret (Hello.job_key)
  std::string job;                      // SITEMPI_JOB, else the PMIx namespace of the mpirun
  std::string output_dir = ".";         // SITEMPI_OUTPUT_DIR (file mode)
  uint32_t batch_records = 4096;        // SITEMPI_BATCH_RECORDS
  uint32_t queue_batches = 64;          // SITEMPI_QUEUE_BATCHES: batches waiting to be sent
  uint32_t flush_ms = 200;              // SITEMPI_FLUSH_MS
  uint32_t finalize_timeout_ms = 3000;  // SITEMPI_FINALIZE_TIMEOUT_MS: longest wait at Finalize
  uint32_t connect_timeout_ms = 1000;   // SITEMPI_CONNECT_TIMEOUT_MS
  uint32_t backoff_max_ms = 2000;       // SITEMPI_BACKOFF_MAX_MS: longest pause between reconnects
  std::string sender_cpus;              // SITEMPI_SENDER_CPUS: other (default), inherit, or a CPU list
  int local_ranks = 0;                  // this job's ranks on this node, as the launcher says
                                        // (OMPI_COMM_WORLD_LOCAL_SIZE, MPI_LOCALNRANKS); 0: unknown
  int yield_when_idle = -1;             // Open MPI's mpi_yield_when_idle as the launcher passes it
                                        // (OMPI_MCA_mpi_yield_when_idle): 1, 0, or -1: not given
  bool verbose = false;                 // SITEMPI_VERBOSE=1: diagnostics on stderr
  // Site-aware collectives (docs/sites.md).
  std::string sites;                    // SITEMPI_SITES: static site map, e.g. "A:0-3;B:4-7"
  std::string sites_file;               // SITEMPI_SITES_FILE: the same syntax in a file
  std::string coll;                     // SITEMPI_COLL: on/off, per collective ("all,-alltoall")
  uint32_t coll_alpha_us = 5000;        // SITEMPI_COLL_ALPHA_US: one-way WAN latency assumed by choices
  uint32_t coll_bandwidth_mbps = 1000;  // SITEMPI_COLL_BANDWIDTH_MBPS: WAN bandwidth assumed
  // SITEMPI_COLL_CHUNK_BYTES: cross-site messages above this go in pieces this large (0: whole).
  // The default stays under Open MPI's TCP eager limit (btl_tcp_eager_limit, 64 KiB with headers).
  uint32_t coll_chunk_bytes = 65024;
  // SITEMPI_COLL_SEGMENT_BYTES: large collectives run their phases on segments this large, so
  // that the site-local phases of one segment overlap the WAN transfer of another (0: whole).
  uint32_t coll_segment_bytes = 16384;
  // SITEMPI_COLL_REDUCE_SEGMENTS: at most this many segments in a Reduce above 1 MiB (coll/segments.h;
  // 8..4096).
  uint32_t coll_reduce_segments = 64;
  // SITEMPI_COLL_PACE_BYTES: pairwise Alltoall sends a rank's cross-site share at most this many
  // bytes unmatched at a time (coll/paced.h); 0: derived from the WAN (core::alltoall_pace_bytes).
  uint32_t coll_pace_bytes = 0;
  // SITEMPI_COLL_PACKED=1: Allgather(v) packs and unpacks at the leaders even for large blocks
  // (the former path, kept to measure the in-place one against it).
  bool coll_packed = false;
  // SITEMPI_COLL_SPREAD=0: the reduce-scatters and Allgather keep the leaders at every size (to
  // measure the spread algorithms against them); the same on every rank.
  bool coll_spread = true;
  // SITEMPI_COLL_PACE_RATE=0: the spread Allgather and reduce-scatters and the leaders of
  // Allreduce, Bcast, Reduce and Gather send their cross-site blocks at once, and the pairwise
  // Alltoall by its window, instead of at the rate core::rate_pace gives; may differ between ranks.
  bool coll_pace_rate = true;
  // SITEMPI_COLL_HANDOFF_US: where ranks share cores (the library yields when idle), a rank of the
  // spread Allgather and Reduce_scatter and the pairwise Alltoall sleeps this long after posting
  // what crosses, before its site-local part, so that the ranks it shares cores with post theirs,
  // and a rank whose paced sends wait for their time with nothing else to progress yields its core
  // meanwhile (coll/handoff.h); 0: never. May differ between ranks.
  uint32_t coll_handoff_us = 300;
  // SITEMPI_COLL_ALLTOALL: auto (the cost model's choice, timed where it is unsure), model (the
  // model's alone), grouped, pairwise or library: forces Alltoall(v)'s algorithm (docs/sites.md).
  std::string coll_alltoall;
  // SITEMPI_COLL_SMALL: below this many bytes per rank, a call whose library butterfly crosses
  // sites in no more rounds than the site-aware algorithm runs the library's; from it to 32 KiB,
  // only where the butterfly also sends just the bound across (core/butterfly.h); 0: never.
  uint32_t coll_small_bytes = 1024;
  // SITEMPI_COLL_NONBLOCKING=0: Iallreduce and Ibcast stay the library's (on by default; their
  // chains advance in the library's progress engine, coll/progress_hook.h); the same on every rank.
  bool coll_nonblocking = true;
  // SITEMPI_COLL_SCRATCH_BYTES: the algorithms' temporary buffers from 64 KiB up are kept for the
  // next call up to this many bytes per process (coll/scratch.h); 0: every buffer is freed.
  uint32_t coll_scratch_bytes = 64u << 20;
  // Relocation agreement (docs/relocation-shim.md): a checkpoint every K covered collective calls
  // on each communicator; 0: placements are read only when a communicator's cache is first built.
  uint32_t checkpoint_every = 32;  // SITEMPI_CHECKPOINT_EVERY

  static Config from_env();
};

// Read once, at the first call: after PMPI_Init, which sets some of what it reads in a singleton
// (the PMIx namespace that names the job). Settings needed before (library_defaults.cpp) are read
// there with the parsers below.
const Config& config();
// The parsers of Config::from_env: an integer setting in lo..hi (else the fallback, with one line
// on stderr), and a switch set to 1/true/yes/on.
uint32_t env_u32(const char* name, uint32_t fallback, uint32_t lo, uint32_t hi);
bool env_flag(const char* name);
// What the launcher says of the job: its ranks on this node (OMPI_COMM_WORLD_LOCAL_SIZE,
// MPI_LOCALNRANKS) and in all (OMPI_COMM_WORLD_SIZE, PMI_SIZE); 0: not said.
int launcher_local_ranks();
int launcher_world_ranks();
void set_log_rank(int rank);  // at MPI_Init: log lines name the rank
// Settings with which no record could ever arrive (a SITEMPI_MONITOR that is no address, an
// SITEMPI_OUTPUT_DIR that is no writable directory): one line each on stderr, from world rank 0,
// once at MPI_Init. The job runs as configured.
void report_unusable_settings(const Config& c, int world_rank);
// SITEMPI_MONITOR read once, for the sender and for the warning at MPI_Init alike: tcp://HOST:PORT
// or HOST:PORT (PORT 1-65535, HOST possibly [IPv6], brackets removed here) or unix:PATH (at most
// 107 bytes). Syntax only: nothing is resolved or connected.
struct MonitorAddress {
  bool unix_socket = false;
  std::string path;        // unix:
  std::string host, port;  // tcp
};
// Why `url` cannot name a monitor ("" when it can, with `out` filled).
std::string parse_monitor_address(const std::string& url, MonitorAddress& out);
void log(const char* fmt, ...) __attribute__((format(printf, 1, 2)));  // only when verbose

}  // namespace sitempi::shim
