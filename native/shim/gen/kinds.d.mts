// Types of what TypeScript code (test/coll/records.ts) imports from the recording rules.
/** Collective families in native/core/cost_model.h order (index = enum Coll). */
export const COLL_NAMES: readonly string[];
