// The dashboard's small parts: --http addresses, the loopback rule, and the heatmap's block sums.
import { describe, expect, it } from 'vitest';
import { HttpAddressError, isLoopback, parseHttpAddress } from '../../src/dashboard/address.js';
import { cookieValue } from '../../src/dashboard/auth.js';
import { heatmapMatrix, MAX_BLOCKS } from '../../src/dashboard/coarse.js';
import type { PairMatrix } from '../../src/monitor/pairs.js';

describe('--http addresses', () => {
  it('parses HOST:PORT, [IPv6]:PORT and PORT; rejects the rest', () => {
    expect(parseHttpAddress('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseHttpAddress('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseHttpAddress('9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseHttpAddress(':9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseHttpAddress('0.0.0.0:80')).toEqual({ host: '0.0.0.0', port: 80 });
    for (const bad of ['', 'host', '1.2.3.4:99999', '[nope]:1', 'a:b:c', 'http://x:1'])
      expect(() => parseHttpAddress(bad), bad).toThrow(HttpAddressError);
  });

  it('loopback: 127.0.0.0/8, ::1, localhost; nothing else', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1'])
      expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'localhost.evil.example', '127.0.0.1.nip.io'])
      expect(isLoopback(h), h).toBe(false);
  });

  it('finds a cookie among others', () => {
    expect(cookieValue('a=1; sitempi_session=abc; b=2', 'sitempi_session')).toBe('abc');
    expect(cookieValue('xsitempi_session=abc', 'sitempi_session')).toBeNull();
  });
});

/** A matrix of the given non-zero pairs (src, dst, bytes), in (src, dst) order. */
function pairs(size: number, list: Array<[number, number, number]>): PairMatrix {
  const sorted = [...list].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return {
    size,
    pairCount: sorted.length,
    forEach: (fn) => sorted.forEach(([s, d, b]) => fn(s, d, b, 1)),
    totalBytes: () => BigInt(sorted.reduce((a, p) => a + p[2], 0)),
    totalMessages: () => BigInt(sorted.length),
  };
}

describe('the heatmap of a large job', () => {
  it('sums the matrix in 256 blocks of contiguous ranks, every byte in the block of its pair', () => {
    const size = 1000; // 256 blocks of 3 or 4 ranks: block b starts at floor(b * 1000 / 256)
    const list: Array<[number, number, number]> = [];
    for (let s = 0; s < size; s += 7) list.push([s, (s * 13 + 5) % size, s + 1]);
    list.push([0, 1, 10], [3, 2, 20], [999, 998, 30]);
    const m = heatmapMatrix(pairs(size, list));
    expect(m.blocks).toBe(256);
    expect(m.labels.slice(0, 2)).toEqual(['0-2', '3-6']);
    expect(m.labels[255]).toBe('996-999');
    expect(m.bytes.length).toBe(256 * 256);
    expect(m.bytes.reduce((a, b) => a + b, 0)).toBe(list.reduce((a, p) => a + p[2], 0));
    const blockOf = (r: number) => Math.floor(((r + 1) * 256 - 1) / size);
    const expected = new Array<number>(256 * 256).fill(0);
    for (const [s, d, b] of list) expected[blockOf(s) * 256 + blockOf(d)] += b;
    expect(m.bytes).toEqual(expected);
  });

  it('keeps small jobs as they are and never exceeds 256 blocks a side', () => {
    expect(heatmapMatrix(pairs(8, [[1, 2, 5]]))).toEqual({
      size: 8,
      blocks: 8,
      labels: ['0', '1', '2', '3', '4', '5', '6', '7'],
      bytes: Array.from({ length: 64 }, (_, i) => (i === 1 * 8 + 2 ? 5 : 0)),
    });
    for (const size of [256, 257, 511, 512, 513, 8192])
      expect(heatmapMatrix(pairs(size, [])).blocks).toBeLessThanOrEqual(MAX_BLOCKS);
  });
});
