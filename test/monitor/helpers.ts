// Fake ranks for monitor tests: they speak through the shim's own encoder (the addon) and read
// what the monitor sends back with the monitor's own decoder.
import { addon, RankConnection } from '../helpers/fake-rank.js';
import { decodeEnvelope, type Envelope } from '../../src/wire/messages.js';

export { addon, batchFrame, fnCode, fnId, helloFrame, until, type Rec } from '../helpers/fake-rank.js';

export function worldCommFrame(size: number, localId = 0, globalId = 1): Buffer {
  return addon.encodeCommDef({ localId, globalId, members: Array.from({ length: size }, (_, i) => i) });
}

/** A client connection that records what the monitor sends back. */
export class FakeRank extends RankConnection<Envelope> {
  constructor(address: string) {
    super(address, (f) => decodeEnvelope(f));
  }

  errors(): string[] {
    return this.received.flatMap((e) => (e.kind === 'error' ? [e.error.message] : []));
  }
}
