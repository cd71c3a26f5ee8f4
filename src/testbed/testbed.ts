// The sitempi testbed: a multi-site virtual cluster on one Linux host.
//
// One network namespace per virtual node, a management bridge for launch traffic, and a data
// network on TUN devices owned by wanemu, which emulates the WAN links between sites (with
// `lan: 'kernel'` same-site packets take a bridge per site instead). mpirun runs
// in the root namespace and starts its daemons in the node namespaces through a generated rsh
// agent; MPI traffic is confined to the data network by MCA parameters (see launch.ts).
//
// This module is the testbed's programmatic API; each concern lives in its own file:
//   state.ts       the state file and its defaults     spec.ts           sites, nodes and links of a spec
//   lifecycle.ts   up, down, status, migrate           namespaces.ts     namespaces and management network
//   links.ts       links between sites and counters    wanemu-process.ts the wanemu process
//   launch.ts      hostfile, rsh agent, mpirun args    hosts.ts          /etc/hosts entries
//   lan.ts         the sites' kernel LANs
export { TestbedError } from './sys.js';
export {
  DEFAULT_BANDWIDTH_BPS,
  DEFAULT_DATA_SUBNET,
  DEFAULT_LAN,
  LAN_MODES,
  DEFAULT_MGMT_SUBNET,
  DEFAULT_MTU,
  DEFAULT_PREFIX,
  DEFAULT_RTT_MS,
  DEFAULT_STATE_DIR,
  defaultWanemuPath,
  loadState,
  type LanMode,
  type LinkState,
  type NodeState,
  type TestbedState,
} from './state.js';
export type { TestbedOptions, TestbedSpec } from './spec.js';
export {
  down,
  migrate,
  status,
  up,
  type MigrateOptions,
  type MigrateResult,
  type NodeStatus,
  type TestbedStatus,
} from './lifecycle.js';
export {
  counters,
  countersDelta,
  linkBytes,
  links,
  setLink,
  type CountersSnapshot,
  type LinkCounters,
  type LinkInfo,
  type SetLinkOptions,
} from './links.js';
export { execInNode, mpirunArgs, mpirunArgsFor, mpirunEnv, type MpirunArgsOptions } from './launch.js';
export { listNetns, rootLinks } from './namespaces.js';
