// Launching MPI jobs on a testbed: the hostfile and the rsh agent that `up` writes, and the mpirun
// arguments and environment that use them. mpirun runs in the root namespace and starts its
// daemons in the node namespaces through the agent; MPI traffic is confined to the data network by
// MCA parameters.
import { findNode, requireState, type TestbedState } from './state.js';
import { isRoot, must, writeFileAtomic } from './sys.js';

/** Writes the hostfile (every node with its slots) and the rsh agent of a testbed. */
export async function writeLaunchFiles(st: TestbedState): Promise<void> {
  await writeFileAtomic(st.hostfile, st.nodes.map((n) => `${n.host} slots=${n.slots}\n`).join(''));
  await writeFileAtomic(st.agent, agentScript(st), 0o755);
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function agentScript(st: TestbedState): string {
  const cases = st.nodes
    .map(
      (n) =>
        `  ${[n.host, n.name, n.mgmtIp].map(shQuote).join('|')}) ns=${shQuote(n.netns)}; host=${shQuote(n.host)} ;;`,
    )
    .join('\n');
  return `#!/bin/sh
# sitempi testbed rsh agent (generated; prefix ${st.prefix}, state ${st.stateDir}).
# Used by mpirun as: --mca plm_rsh_agent ${st.agent}
# Called like ssh: AGENT [ssh options] HOST COMMAND...; runs COMMAND with /bin/sh in the network
# namespace of HOST, in a UTS namespace of its own whose host name is HOST.
while [ $# -gt 0 ]; do
  case "$1" in
    -l|-p|-o|-i|-F) shift 2 ;;
    -*) shift ;;
    *) break ;;
  esac
done
if [ $# -lt 2 ]; then
  echo "sitempi testbed agent: usage: $0 HOST COMMAND..." >&2
  exit 255
fi
target="$1"; shift
target="\${target#*@}"
case "$target" in
${cases}
  *) echo "sitempi testbed agent: $target is not a node of this testbed (${st.prefix})" >&2; exit 255 ;;
esac
exec ip netns exec "$ns" unshare --uts /bin/sh -c 'echo "$0" > /proc/sys/kernel/hostname && exec /bin/sh -c "$1"' "$host" "$*"
`;
}

export interface MpirunArgsOptions {
  stateDir?: string;
  /** Restrict the job to these nodes (short names or host names), with their slots. */
  nodes?: string[];
  /** Add --mca mpi_yield_when_idle 1 (default true: the testbed oversubscribes the real cores). */
  yieldWhenIdle?: boolean;
  /** Open MPI's point-to-point transports (default DEFAULT_BTL). */
  btl?: string;
}

/**
 * TCP between nodes, shared memory (vader) between the ranks of one node, as Open MPI runs on real
 * nodes. With `tcp,self` a node's own ranks talk over its loopback TCP too, at many times the CPU
 * per byte, on cores the whole testbed shares (docs/benchmarks.md, "Shared memory within a node").
 */
export const DEFAULT_BTL = 'tcp,vader,self';
/** The transports a record names; absent in those of before the option: `tcp,self`. */
export const btlOf = (x: { btl?: string }): string => x.btl ?? 'tcp,self';

/**
 * The mpirun arguments that run a job on the testbed: `mpirun ...mpirunArgs() -np 8 ./app`.
 * Launch goes through the rsh agent into the node namespaces; MPI point-to-point traffic between
 * nodes uses the TCP BTL on the data network only (shared memory within a node), and runtime
 * (OOB) traffic the management network.
 */
export async function mpirunArgs(opts: MpirunArgsOptions = {}): Promise<string[]> {
  const st = await requireState(opts);
  return mpirunArgsFor(st, opts);
}

export function mpirunArgsFor(st: TestbedState, opts: Omit<MpirunArgsOptions, 'stateDir'> = {}): string[] {
  const args: string[] = [];
  if (isRoot()) args.push('--allow-run-as-root');
  if (opts.nodes && opts.nodes.length > 0) {
    const hosts = opts.nodes.map((x) => findNode(st, x));
    args.push('--host', hosts.map((n) => `${n.host}:${n.slots}`).join(','));
  } else {
    args.push('--hostfile', st.hostfile);
  }
  args.push(
    '--mca',
    'plm_rsh_agent',
    st.agent,
    '--mca',
    'plm_rsh_no_tree_spawn',
    '1',
    '--mca',
    'pml',
    'ob1',
    '--mca',
    'osc',
    '^ucx',
    '--mca',
    'btl',
    checkBtl(opts.btl ?? DEFAULT_BTL),
    '--mca',
    'btl_tcp_if_include',
    st.dataSubnet,
    '--mca',
    'oob_tcp_if_include',
    st.mgmtSubnet,
  );
  if (opts.yieldWhenIdle !== false) args.push('--mca', 'mpi_yield_when_idle', '1');
  return args;
}

function checkBtl(btl: string): string {
  const names = btl.split(',');
  if (!names.includes('tcp') || !names.includes('self') || !names.every((n) => /^[a-z0-9_]+$/.test(n)))
    throw new Error(
      `bad btl list "${btl}": comma-separated names with tcp (between nodes) and self, e.g. ${DEFAULT_BTL}`,
    );
  return btl;
}

/** Environment for mpirun as root (Open MPI refuses root without these). */
export function mpirunEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1' };
}

/** Runs a command inside a node's namespace (for tools and tests). */
export async function execInNode(node: string, cmd: string[], opts: { stateDir?: string } = {}): Promise<string> {
  const st = await requireState(opts);
  const n = findNode(st, node);
  return await must('ip', ['netns', 'exec', n.netns, ...cmd]);
}
