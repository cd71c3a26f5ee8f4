// The usage text of the sitempi command (sitempi --help).
import { PLACEMENT_USAGE } from '../placement/cli.js';

export const USAGE = `usage: sitempi <command> [options]

  sitempi run [run options] [mpirun options] -- ./app [args...]
      Runs an MPI program under the shim (mpirun -x LD_PRELOAD=libsitempi.so ...) with an embedded
      monitor, forwards the program's output unchanged, prints the report after it and exits with
      the program's exit code.
      run options (before any mpirun option):
        --json             JSON report (one line, the last line of stdout) instead of text
        --report FILE      write the report to FILE instead of stdout (mode 0600; --report-mode)
        --report-mode M    permissions of report files, octal (default 600)
        --token-file FILE  token the ranks must present, from FILE (default: $SITEMPI_TOKEN, else a
                           random one); it reaches the ranks through the environment, never argv
        --token T          the same on the command line, visible to every user (warns)
        --listen ADDR      monitor address: unix:/path (default: a private Unix socket) or
                           tcp://host:port (ranks on other hosts; see --monitor-host)
        --monitor-host H   host name the ranks use to reach a tcp monitor (default: this host's name)
        --job ID           job id (default: random)
        --lib PATH         the shim (default: build/Release/libsitempi.so of this package)
        --mpirun PATH      mpirun to use (default: mpirun, or $SITEMPI_MPIRUN)
        --wait MS          after mpirun exits, wait up to MS for the ranks' last data (default 5000)
        --no-progress      no progress line (shown on stderr only when it is a terminal)
        --name NAME        the job's name in the history (default: the program's file name)
        --history FILE     keep the ended job in the job history FILE (SQLite; "default":
                           ~/.local/share/sitempi/history.db); a name with history starts placed by
                           its past verdict (docs/history.md)
        --http ADDR        live web dashboard and /metrics at ADDR while the job runs
                           (HOST:PORT; see the monitor's --http)
        --record-dir DIR   keep each rank's stream as DIR/sitempi-<job>-<rank>.smpi, the rank
                           file format, for sitempi report [--trace] (docs/trace.md)
        --record-max-bytes SIZE  what one job records at most (default 1GiB; a note when reached)
        --trace FILE       write the job's Perfetto trace to FILE at the end (recorded in a
                           temporary directory unless --record-dir); --trace-max-events N as for report
        placement options (below); with --testbed, mpirun runs on the testbed that is up
      Running as root sets OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM)=1. With more ranks than cores pass
      --oversubscribe --mca mpi_yield_when_idle 1. SITEMPI_* variables of the environment are
      passed on to the ranks.

  sitempi monitor [--listen ADDR]... [--token-file FILE] [--json] [--linger MS] [--hello-timeout MS]
                  [--max-ranks N] [--report-dir DIR] [--report-mode M] [--join-window MS]
                  [--require-job-key] [--history FILE] [--http ADDR] [--record-dir DIR]
                  [--record-max-bytes SIZE] [--replay-total SIZE] [placement options]
      Runs the monitor service (default --listen tcp://127.0.0.1:7711; the token from --token-file
      or $SITEMPI_TOKEN; --token T works too but shows it to every user, with a warning) and prints
      a report for each job that ends (text, or one JSON line per job with --json; with --report-dir
      also writes DIR/<job>.json, mode 0600 unless --report-mode). Connections that send no Hello
      within --hello-timeout (default 30000 ms) are closed; jobs of more than --max-ranks ranks
      (default 65536: a guard against nonsense sizes; the matrices are sparse) are refused.
      A job whose ranks have not all connected waits --join-window (default 60000 ms) after its
      last connection closed for the others; --require-job-key refuses ranks without a job key
      (SITEMPI_JOB_KEY, set by sitempi run). A second report of one job id in --report-dir gets a
      new name (<job>.1.json, ...): none is overwritten. --history FILE keeps every ended job in the
      job history (as for run; names are program file names). Stops on SIGINT/SIGTERM.
      --http ADDR serves a live web dashboard and Prometheus /metrics at ADDR (HOST:PORT, [IPv6]:PORT
      or PORT for 127.0.0.1:PORT). Loopback serves anyone on this host; any other address needs
      the monitor's token (Authorization: Bearer, or /login?token= once). See docs/dashboard.md.
      --record-dir DIR keeps each rank's stream as a rank file in DIR (as for run), at most
      --record-max-bytes SIZE per job (default 1GiB); sitempi report --trace reads them.
      --replay-total SIZE bounds the records all jobs keep for the prediction together (default
      128MiB; each job keeps at most --replay-bytes; first come first kept).

  sitempi report [--json] [--max-file-size SIZE] [--plot FILE] [--plot-values V] [--trace FILE]
                 [--trace-max-events N] [--full-matrix] FILES|DIRS...
      Report from the per-rank files (sitempi-<job>-<rank>.smpi) the shim writes when no monitor is
      configured (SITEMPI_OUTPUT_DIR). Directories are searched for *.smpi files. Only regular
      files are read, at most SIZE of each (default 16GiB); frames that do not decode are skipped
      and counted in the report. --plot FILE also writes a heatmap of the communication matrix as
      a PNG (mode 0600; several jobs: FILE-<job>.png): one square per rank up to 256 ranks, per
      host or rank range above, log colour scale of the bytes (--plot-values messages: of the
      messages), the scale's range on stderr.
      --trace FILE also writes the jobs' timelines as a Perfetto/Chrome trace (JSON, mode 0600):
      a track per rank with its MPI calls, placement switches and relocations; past
      --trace-max-events N calls (default 1000000) each rank's calls are summed by time bucket.

  sitempi history [--json] [--full] [--limit N] [--history FILE] [NAME|JOB]
      Past jobs of the job history (newest first; all, or the runs of one name or job id): verdict,
      size, times, placements, relocations; --full adds the function table and the matrix to the
      JSON (docs/history.md). FILE defaults to ~/.local/share/sitempi/history.db.

  sitempi testbed <command> ...    the multi-site testbed (sitempi testbed --help)

  sitempi manager | submit | jobs | cancel | nodes | agent ...
      The job manager: a queue of MPI jobs on a multi-site cluster (sitempi manager --help)

report options (run, monitor, report):
  --top N                rows in the top-N tables (default 10)
  --threshold RATE       crossing traffic that makes a job network-intensive (default 10MB/s)
  --mpi-fraction F       fraction of time in MPI that makes lower rates count (default 0.5)
  --verdict-rule R       prediction (default: the replay's predicted slowdown of the split decides)
                         or rates (the crossing-rate rule); both rules' numbers are reported
  --max-split-slowdown S predicted slowdown split over two sites above which a job is
                         network-intensive (default 1.25)
  --replay-bytes SIZE    records each job keeps for the prediction (default 8MiB; 0: none)
  --no-histograms        leave the per-pair message-size histograms out of the JSON
  --full-matrix          also write every matrix in full as its non-zero pairs (JSON sparseMatrix);
                         without it, jobs above 256 ranks get matrices of at most 256 x 256 blocks,
                         the top pairs' histograms and, above 256 ranks, the extreme ranks only

JSON schema: docs/report-json.md.

${PLACEMENT_USAGE}`;
