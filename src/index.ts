// sitempi: the monitor library (wire protocol, jobs, classification, reports).
export * from './monitor/index.js';
export * from './report/report.js';
export { FrameDecoder, WireError, frame } from './wire/frames.js';
export {
  decodeEnvelope,
  decodeBatch,
  BatchScratch,
  encodeAck,
  encodeError,
  encodePlacement,
  encodeHello,
  type Envelope,
  type Hello,
  type Batch,
  type CommDef,
  type Placement,
  type Bye,
} from './wire/messages.js';
export { MAX_FRAME_BYTES, PROTOCOL_VERSION, protoPath, schema, messageType } from './wire/proto.js';
// Placement: where ranks are, relocation through executors (testbed, command hook), the policy.
export * from './placement/index.js';
