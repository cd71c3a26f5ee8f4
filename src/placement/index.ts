// sitempi placement: where ranks are, relocations, executors, the consolidation policy.
export * from './sitemap.js';
export * from './cost.js';
export {
  movingHosts,
  type Executor,
  type JobInfo,
  type RelocationRequest,
  type ExternalChange,
  type LinkParams,
} from './executor.js';
export { TestbedExecutor, type TestbedExecutorOptions } from './testbed-executor.js';
export {
  CommandExecutor,
  CommandExecutorError,
  splitCommand,
  type CommandExecutorOptions,
} from './command-executor.js';
export { isHostname, badHostname } from './hostname.js';
export { relocationNumbers, type NumbersContext } from './numbers.js';
export { ConsolidationPolicy, type PolicyOptions, type PolicyDecision, type PolicyHost } from './policy.js';
export {
  PlacementService,
  wirePlacement,
  type PlacementServiceOptions,
  type PlacementServiceEvents,
  type PlacementRecord,
  type PlacementEvent,
  type PlacementSource,
  type RelocationEvent,
  type RelocationNumbers,
  type PlacementHistory,
  type SitesConfig,
} from './service.js';
export { placementReport, addPlacementToJson, formatPlacementText, type PlacementReport } from './report.js';
