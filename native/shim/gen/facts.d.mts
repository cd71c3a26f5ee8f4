// Types of what TypeScript code (test/wire/facts.test.ts) imports from the facts table.
export const ROLE_SHIFT: number;
export const ROLES: readonly { name: string; value: number; doc: string }[];
export const COLLS: readonly { name: string; site?: string }[];
export const COLL_NAMES: readonly string[];
export const ALGS: readonly { name: string; value: number; doc: string }[];
export const ALLTOALL_CALIBRATION_ROUNDS: number;
export const MARKS: readonly { name: string; value: number; doc: string }[];
export const PROTOCOL_VERSION: number;
export const MAX_FRAME_BYTES: number;
export function factsHeader(): string;
export function factsTs(): string;
