// The usage text of the job manager's commands (sitempi manager --help).

export const DEFAULT_MANAGER = 'tcp://127.0.0.1:7712';

export const MANAGER_USAGE = `usage: the sitempi job manager (docs/manager.md)

  sitempi manager (--cluster FILE | --testbed [--testbed-state DIR] | --sites A=4x2,B=2x2 [--rtt 10ms]
                  [--bandwidth 1gbit] [--link A-B:rtt=20ms,bw=100mbit]... [--host localhost])
                  [--listen ADDR]... [--dir DIR] [--token-file FILE] [--mpirun PATH] [--lib PATH]
                  [--grace MS] [--max-bypass K] [--max-wait MS] [--stale-after N] [--agents MS]
                  [--relocate on|off] [--executor-command CMD] [--history FILE|default] [--quiet]
                  [--slurm [--slurm-conf FILE] [--slurm-partition P] [--slurm-poll MS] | --slurm-testbed]
      Runs the manager: a queue of MPI jobs on the cluster (a description file, the testbed that is
      up, or sites given here: nodes a0, a1, ... on host --host). Listens on ${DEFAULT_MANAGER} (default)
      and on DIR/manager.sock; the token from --token-file or $SITEMPI_TOKEN. Jobs start first come,
      first served with backfill (a job bypassed --max-bypass times, default 3, or waiting longer than
      --max-wait ms, default 600000, blocks further backfill). Each job's output, exit code and report
      go to DIR/jobs/ID.{out,err,exit,report.json}; the event log to DIR/events.jsonl (DIR default
      ./sitempi-manager). A cancel sends SIGTERM to mpirun and SIGKILL after --grace ms (default 5000).
      --agents MS starts an agent in each testbed node sampling every MS ms. A node is stale after
      --stale-after missed samples (default 3): it gets no new jobs until it reports again.
      --slurm: Slurm queues and allocates (docs/slurm.md): each job goes to sbatch with the nodes
      the manager chose (--nodelist, or the sites it may wait for as --constraint on the site_<SITE>
      node features), is followed with squeue every --slurm-poll ms (default 1000) and cancelled
      with scancel; each node's host is its Slurm NodeName and its site feature is kept current.
      --slurm-testbed (with --testbed, as root) starts munged, slurmctld and a slurmd per node for
      the manager's lifetime and uses them.
      --history FILE|default: ended jobs are written to the job history (docs/history.md); a job whose
      name last ran network-intensive waits for one site that holds it rather than span sites.
      --relocate on (default on the testbed): the planner moves running jobs between sites; elsewhere
      through --executor-command CMD, the relocation hook (docs/relocation.md).

  sitempi submit [--name NAME] [--time SECONDS] -np N [mpirun options] -- ./app [args...]
      Queues a job; prints its id. The program runs in the current directory, with the manager's
      environment. --host, --hostfile and -np are the manager's to set.
  sitempi jobs [--json]              queued, running and ended jobs: placement, state, exit code, files
  sitempi cancel ID...               a queued job is removed; a running one terminated
  sitempi nodes [--json]             nodes: slots in use, jobs, health (fresh, stale, unknown), load, memory
  sitempi agent --node NAME [--interval MS]
      Samples this node's /proc/loadavg, /proc/stat and /proc/meminfo every MS ms (default 2000) and
      reports to the manager.

  The clients take --manager ADDR (default $SITEMPI_MANAGER, else ${DEFAULT_MANAGER}) and the token as
  the manager does (--token-file FILE or $SITEMPI_TOKEN).
`;
