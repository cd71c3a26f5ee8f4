// sitempi placement: where ranks are, relocations, executors, the consolidation policy.
export * from './sitemap.js';
export * from './cost.js';
export { movingHosts, type Executor, type JobInfo, type RelocationRequest, type ExternalChange, type LinkParams } from './executor.js';
export { TestbedExecutor, type TestbedExecutorOptions } from './testbed-executor.js';
export { CommandExecutor, CommandExecutorError, type CommandExecutorOptions } from './command-executor.js';
export { ConsolidationPolicy, type PolicyOptions, type PolicyDecision } from './policy.js';
export {
  PlacementService, wirePlacement,
  type PlacementServiceOptions, type PlacementServiceEvents, type PlacementRecord, type PlacementEvent, type PlacementSource,
  type RelocationEvent, type RelocationNumbers, type PlacementHistory, type SitesConfig,
} from './service.js';
export { placementReport, addPlacementToJson, formatPlacementText, type PlacementReport } from './report.js';
