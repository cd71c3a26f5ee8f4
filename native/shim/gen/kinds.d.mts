// Types of what TypeScript code imports from the recording rules.
/** Functions whose C entry points go through the site-aware dispatcher. */
export const ADAPTIVE: ReadonlySet<string>;
