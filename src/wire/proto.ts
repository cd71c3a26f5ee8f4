// The wire schema (proto/sitempi.proto) loaded with protobufjs. The path is resolved from the
// package root, so this works from src/ (vitest) and from dist/src/ (after tsc).
import protobuf from 'protobufjs';
import path from 'node:path';
import { packageRoot } from '../native/paths.js';

/** Where the schema lives. */
export const protoPath: string = path.join(packageRoot, 'proto', 'sitempi.proto');

// The wire protocol version (Hello.protocol) and the largest frame body accepted or produced,
// shared with the shim (generated from native/shim/gen/facts.mjs).
export { MAX_FRAME_BYTES, PROTOCOL_VERSION } from '../generated/facts.js';

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
