// Types of what TypeScript code (test/replay/tuned.test.ts) imports from the coll/tuned rules.
export type TunedRow = readonly [number, readonly (readonly [number, number])[], number];
export const TUNED_RULES: Record<string, { bytes: string; algs: readonly string[]; rows: readonly TunedRow[] }>;
export function tunedHeader(): string;
export function tunedTs(): string;
