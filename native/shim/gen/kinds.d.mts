// Types of what TypeScript code imports from the recording rules.
/** Functions whose C entry points go through the site-aware dispatcher. */
export const ADAPTIVE: ReadonlySet<string>;
/** Collective family (facts.mjs, COLLS) of each kind of native/shim/mpi_functions.txt. */
export const collOfKind: Readonly<Record<string, string>>;
