// Public API of the sitempi testbed.
export * from './testbed.js';
export * from './units.js';
export { testbedCli } from './cli.js';
export { wanemuCommand, wanemuOne, WanemuError } from './wanemu.js';
export type { WanemuStatus, WanemuLink, WanemuNode, WanemuCounters, WanemuCountersReply } from './wanemu.js';
