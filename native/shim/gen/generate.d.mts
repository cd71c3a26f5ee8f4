// Types of what TypeScript code (test/coll/records.ts, test/wire/facts.test.ts) imports from the generator.
export interface TableFunction {
  id: number;
  kind: string;
  name: string;
  params: unknown[];
}
/** Parses native/shim/mpi_functions.txt: one entry per function, ids in table order. */
export function parseTable(text: string): TableFunction[];
/** Every generated file's text by name: `cpp` for build/generated/, `ts` for src/generated/. */
export function generate(): { cpp: Record<string, string>; ts: Record<string, string> };
