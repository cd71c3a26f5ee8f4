// The C++ Hello encoder (the shim's, through the addon) writes the job key as field 10
// (proto/sitempi.proto, Hello.job_key), and nothing when there is none.
import { describe, expect, it } from 'vitest';
import { addon } from '../../src/native/addon.js';

const hello = { job: 'j', rank: 1, size: 2, host: 'h', pid: 7, startNs: 99, token: 't', program: '/bin/x' };
const keyField = (key: string) => Buffer.concat([Buffer.from([(10 << 3) | 2, key.length]), Buffer.from(key)]);

describe('Hello.job_key from the C++ encoder', () => {
  it('is field 10, after the other fields', () => {
    const key = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    const withKey = addon.encodeHello({ ...hello, jobKey: key });
    const without = addon.encodeHello(hello);
    // Same frame plus the key field (the envelope's lengths grow by its size).
    const field = keyField(key);
    expect(withKey.length).toBe(without.length + field.length);
    expect(withKey.subarray(withKey.length - field.length).equals(field)).toBe(true);
  });

  it('is left out when empty', () => {
    expect(addon.encodeHello({ ...hello, jobKey: '' }).equals(addon.encodeHello(hello))).toBe(true);
  });
});
