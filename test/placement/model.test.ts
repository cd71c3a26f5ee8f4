// Site maps (the shim's SITEMPI_SITES syntax) and the migration cost model of Sato et al..
import { describe, expect, it } from 'vitest';
import { migrationCost, relocationGain, weigh } from '../../src/placement/cost.js';
import {
  consolidated,
  formatSiteMap,
  parseSiteMap,
  ranksPerSite,
  samePlacement,
  validatePlacement,
} from '../../src/placement/sitemap.js';

describe('site maps', () => {
  it('parses ranges, lists, host globs and comments like the shim', () => {
    expect(parseSiteMap('A:0-3;B:4-7', 8)).toEqual({ sites: ['A', 'B'], siteOf: [0, 0, 0, 0, 1, 1, 1, 1] });
    expect(parseSiteMap('A:0,2,4,6;B:1,3,5,7', 8).siteOf).toEqual([0, 1, 0, 1, 0, 1, 0, 1]);
    expect(parseSiteMap('# two sites\nA: 0-1 , 3\nB:2 # the rest\n', 4).siteOf).toEqual([0, 0, 1, 0]);
    expect(parseSiteMap('x:@n[ab]?;y:@m*', 3, ['na1', 'm.example', 'nb2'])).toEqual({
      sites: ['x', 'y'],
      siteOf: [0, 1, 0],
    });
  });

  it('rejects what the shim rejects, with its messages', () => {
    expect(() => parseSiteMap('A0-3', 4)).toThrow(/'A0-3' is not of the form NAME:RANKS/);
    expect(() => parseSiteMap('A:0-1;A:2-3', 4)).toThrow(/site 'A' is named twice/);
    expect(() => parseSiteMap('A:0-4', 4)).toThrow(/rank 4 in site 'A' is out of range \(the job has 4 ranks\)/);
    expect(() => parseSiteMap('A:0-2;B:2-3', 4)).toThrow(/rank 2 is in both site 'A' and site 'B'/);
    expect(() => parseSiteMap('A:0-1', 4)).toThrow(/ranks 2, 3 are in no site/);
    expect(() => parseSiteMap('A:x', 4)).toThrow(/unknown rank 'x'/);
    expect(() => parseSiteMap('A:@h*', 2)).toThrow(/host names of the ranks are unknown/);
    expect(() => parseSiteMap('A:@h*;B:@z*', 2, ['h1', 'h2'])).toThrow(/site 'B' is empty \(no rank's host matches\)/);
  });

  it('formats, compares and consolidates placements', () => {
    const p = parseSiteMap('A:0-2,5;B:3,4,6-7', 8);
    expect(formatSiteMap(p)).toBe('A:0-2,5;B:3,4,6,7');
    expect(samePlacement(p, { sites: ['B', 'A'], siteOf: [1, 1, 1, 0, 0, 1, 0, 0] })).toBe(true);
    expect(samePlacement(p, consolidated(p, 'A'))).toBe(false);
    expect(formatSiteMap(consolidated(p, 'B'))).toBe('B:0-7');
    expect([...ranksPerSite(p)]).toEqual([
      ['A', 4],
      ['B', 4],
    ]);
    expect(() => validatePlacement({ sites: ['A'], siteOf: [0, 1] }, 2)).toThrow(/rank 1: site index 1 out of range/);
  });
});

describe('migration cost model (Sato et al.)', () => {
  const GiB = 1024 ** 3;
  it('stop-and-copy: the VM is down for the whole copy, M/B + RTT, once per VM', () => {
    const e = migrationCost(2, 0, { mode: 'stop', vmMemoryBytes: GiB, bandwidthBps: 1e9, latencySeconds: 0.005 });
    expect(e.mode).toBe('stop');
    expect(e.transferBytes).toBe(2 * GiB);
    expect(e.downtimePerVmSeconds).toBeCloseTo(GiB / 125e6 + 0.01, 9);
    expect(e.downtimeSeconds).toBeCloseTo(2 * (GiB / 125e6 + 0.01), 9);
    expect(e.costSeconds).toBeCloseTo(e.downtimeSeconds, 9);
  });

  it('live: rounds of a geometric series of ratio D/B; short downtime when it converges, none of that when D >= B', () => {
    const low = migrationCost(1, 0, {
      mode: 'live',
      vmMemoryBytes: GiB,
      dirtyBytesPerSecond: 12.5e6,
      bandwidthBps: 1e9,
      latencySeconds: 0.005,
    });
    // ratio 0.1: M, 0.1M, 0.01M, ... until <= 200 KiB
    expect(low.converged).toBe(true);
    expect(low.transferBytes).toBeGreaterThan(1.1 * GiB);
    expect(low.transferBytes).toBeLessThan(1.12 * GiB);
    expect(low.downtimePerVmSeconds).toBeLessThan(0.012);
    expect(low.migrationSeconds).toBeCloseTo(low.transferBytes / 125e6 + 0.01, 3);
    const high = migrationCost(1, 0, {
      mode: 'live',
      vmMemoryBytes: GiB,
      dirtyBytesPerSecond: 200e6,
      bandwidthBps: 1e9,
    });
    expect(high.converged).toBe(false);
    expect(high.transferBytes).toBeGreaterThanOrEqual(3 * GiB);
    expect(high.downtimeSeconds).toBeGreaterThan(8); // the whole memory again, VM down
    // auto: live when it converges, stop-and-copy when the dirty rate defeats it
    expect(migrationCost(1, 0, { dirtyBytesPerSecond: 12.5e6 }).mode).toBe('live');
    expect(migrationCost(1, 0, { dirtyBytesPerSecond: 200e6 }).mode).toBe('stop');
  });

  it('live migration shares the link with the job: its pre-copy time costs the job its share of the link', () => {
    const idle = migrationCost(1, 0, { mode: 'live' });
    const busy = migrationCost(1, 62.5e6, { mode: 'live' });
    expect(busy.linkShare).toBeCloseTo(0.5, 9);
    expect(busy.costSeconds - idle.costSeconds).toBeCloseTo((busy.migrationSeconds - busy.downtimeSeconds) * 0.5, 6);
  });

  it('gain: WAN time per second before minus after, over the horizon, capped by the time in MPI', () => {
    const g = relocationGain(
      {
        ranks: 4,
        wallSeconds: 10,
        mpiFraction: 0.9,
        crossBytesBefore: 10 * 25e6,
        crossBytesAfter: 0,
        crossMessagesBefore: 10 * 400,
        crossMessagesAfter: 0,
      },
      { bandwidthBps: 1e9, latencySeconds: 0.005 },
    );
    expect(g.wanTimeFractionBefore).toBeCloseTo(25e6 / 125e6 + (400 / 4) * 0.005, 9);
    expect(g.gainSeconds).toBeCloseTo(10 * g.wanTimeFractionBefore, 9);
    const capped = relocationGain(
      {
        ranks: 4,
        wallSeconds: 10,
        mpiFraction: 0.3,
        crossBytesBefore: 10 * 100e6,
        crossBytesAfter: 0,
        crossMessagesBefore: 0,
        crossMessagesAfter: 0,
      },
      { horizonSeconds: 100 },
    );
    expect(capped.wanTimeFractionBefore).toBe(0.3);
    expect(capped.gainSeconds).toBeCloseTo(30, 9);
    const w = weigh(
      {
        ranks: 4,
        wallSeconds: 10,
        mpiFraction: 0.3,
        crossBytesBefore: 1e9,
        crossBytesAfter: 0,
        crossMessagesBefore: 0,
        crossMessagesAfter: 0,
      },
      2,
      { vmMemoryBytes: 1e6 },
    );
    expect(w.worthIt).toBe(true);
    expect(
      weigh(
        {
          ranks: 4,
          wallSeconds: 10,
          mpiFraction: 0.3,
          crossBytesBefore: 1e6,
          crossBytesAfter: 0,
          crossMessagesBefore: 0,
          crossMessagesAfter: 0,
        },
        2,
      ).worthIt,
    ).toBe(false);
  });
});
