// The wire schema (proto/sitempi.proto) loaded with protobufjs. The path is resolved from the
// package root, so this works from src/ (vitest) and from dist/src/ (after tsc).
import protobuf from 'protobufjs';
import path from 'node:path';
import { packageRoot } from '../native/paths.js';

/** Where the schema lives. */
export const protoPath: string = path.join(packageRoot, 'proto', 'sitempi.proto');

/** Wire protocol version this monitor speaks (Hello.protocol). */
export const PROTOCOL_VERSION = 1;

/** Largest frame body accepted or produced (the shim's kMaxFrameBytes, the addon's maxFrameBytes). */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

let root: protobuf.Root | undefined;

/** The loaded schema (loaded once, synchronously). */
export function schema(): protobuf.Root {
  if (!root) root = protobuf.loadSync(protoPath);
  return root;
}

/** A message type of the schema, e.g. `messageType('Envelope')`. */
export function messageType(name: string): protobuf.Type {
  return schema().lookupType(`sitempi.${name}`);
}

export { protobuf };
