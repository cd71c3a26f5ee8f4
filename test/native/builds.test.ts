// The addon is built twice, by cmake-js (build/Release) and by node-gyp from binding.gyp
// (build-gyp/): both must load and behave identically, so the two build descriptions cannot drift.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addon, type NativeAddon } from '../../src/native/addon.js';
import { packageRoot } from '../../src/native/paths.js';

const gypPath = path.join(packageRoot, 'build-gyp', 'sitempi.node');

describe('cmake-js and node-gyp builds of the addon', () => {
  it('the node-gyp build exists (npm run build makes it)', () => {
    expect(fs.existsSync(gypPath)).toBe(true);
  });

  it('encode the same frames and expand collectives the same way', () => {
    const gyp = createRequire(import.meta.url)(gypPath) as NativeAddon;
    expect(gyp.protocolVersion).toBe(addon.protocolVersion);
    expect(gyp.maxFrameBytes).toBe(addon.maxFrameBytes);
    const n = 257;
    const batch = {
      seq: 7,
      dropped: 3,
      epoch: 2,
      fn: Uint32Array.from({ length: n }, (_, i) => (i * 37) % 4096),
      peer: Int32Array.from({ length: n }, (_, i) => (i % 5) - 1),
      bytes: Float64Array.from({ length: n }, (_, i) => i * 1e9 + 1),
      comm: Uint32Array.from({ length: n }, (_, i) => i % 3),
      alg: Uint32Array.from({ length: n }, (_, i) => i % 2),
      start: Float64Array.from({ length: n }, (_, i) => i * 1000),
      duration: Float64Array.from({ length: n }, (_, i) => i * 7),
    };
    expect(Buffer.compare(gyp.encodeBatch(batch), addon.encodeBatch(batch))).toBe(0);
    const hello = { job: 'j', rank: 3, size: 8, host: 'h', pid: 42, startNs: 123456789, token: 't', program: '/bin/x' };
    expect(Buffer.compare(gyp.encodeHello(hello), addon.encodeHello(hello))).toBe(0);
    for (let coll = 1; coll <= 18; coll++) {
      for (const me of [0, 1, 5]) {
        expect(gyp.expandCollective(coll, 0, me, 1, 6, 1024)).toEqual(addon.expandCollective(coll, 0, me, 1, 6, 1024));
      }
    }
  });
});
