// The shim's own decoder of what the monitor sends (native/core/wire.cpp decode_envelope): exact
// on valid frames, and never crashing or misreading garbage.
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { addon } from '../../src/native/addon.js';

const body = (frame: Buffer) => frame.subarray(4);

describe("the shim's envelope decoder", () => {
  it('reads Placement frames exactly, empty site names included', () => {
    const p = { epoch: 12345678901, sites: ['A', '', 'site-3'], siteOf: [0, 2, 2, 1, 0, 300] };
    expect(addon.decodeEnvelope(body(addon.encodePlacement(p)))).toEqual({ kind: 'placement', ...p });
  });

  it('classifies other messages it does not act on', () => {
    expect(addon.decodeEnvelope(body(addon.encodeBye({ endNs: 1, records: 2, dropped: 0, mpiNs: 3 }))).kind).toBe(
      'other',
    );
  });

  it('survives 20 000 random and truncated inputs', () => {
    const valid = body(addon.encodePlacement({ epoch: 9, sites: ['A', 'B'], siteOf: [0, 1, 0, 1] }));
    const kinds = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const r = addon.decodeEnvelope(crypto.randomBytes(i % 97));
      kinds.add(r.kind);
      const cut = addon.decodeEnvelope(valid.subarray(0, i % valid.length));
      if (cut.kind === 'placement') expect(cut.siteOf!.length).toBeLessThanOrEqual(4);
    }
    expect(kinds.has('malformed')).toBe(true);
  });
});
