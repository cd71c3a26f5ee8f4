import { describe, expect, it } from 'vitest';

import { DEFAULT_BTL, mpirunArgsFor } from '../../src/testbed/launch.js';
import type { TestbedState } from '../../src/testbed/state.js';

import {
  parseBandwidth,
  parseBytes,
  parseDurationMs,
  parseLinkSpec,
  parseSites,
  parseSubnet,
  subnetHost,
  subnetsOverlap,
} from '../../src/testbed/units.js';

describe('testbed units', () => {
  it('parses durations', () => {
    expect(parseDurationMs('10ms')).toBe(10);
    expect(parseDurationMs('500us')).toBe(0.5);
    expect(parseDurationMs('0.01s')).toBe(10);
    expect(parseDurationMs('7')).toBe(7);
    expect(() => parseDurationMs('ten')).toThrow(/bad duration/);
  });

  it('parses bandwidths as bits per second', () => {
    expect(parseBandwidth('1gbit')).toBe(1e9);
    expect(parseBandwidth('100mbit')).toBe(1e8);
    expect(parseBandwidth('100Mbps')).toBe(1e8);
    expect(parseBandwidth('1.5g')).toBe(1.5e9);
    expect(parseBandwidth('1e9')).toBe(1e9);
    expect(parseBandwidth('0')).toBe(0);
    expect(() => parseBandwidth('fast')).toThrow(/bad bandwidth/);
  });

  it('parses sites and links', () => {
    expect(parseSites('A=4,B=4')).toEqual([
      { name: 'A', nodes: 4 },
      { name: 'B', nodes: 4 },
    ]);
    expect(parseSites('A=1x4')).toEqual([{ name: 'A', nodes: 1, slots: 4 }]);
    expect(() => parseSites('A')).toThrow(/bad site/);
    expect(parseLinkSpec('A-B:rtt=20ms,bw=100mbit')).toEqual({ a: 'A', b: 'B', rttMs: 20, bandwidth: 1e8 });
    expect(parseLinkSpec('A>B:latency=3ms,queue=1m')).toEqual({
      a: 'A',
      b: 'B',
      oneWay: true,
      latencyMs: 3,
      queueBytes: 1 << 20,
    });
    expect(() => parseLinkSpec('A-B:jitter=1ms')).toThrow(/unknown link parameter/);
    expect(parseBytes('256k')).toBe(262144);
  });

  it('handles subnets', () => {
    const s = parseSubnet('198.18.0.0/16');
    expect(subnetHost(s, 10)).toBe('198.18.0.10');
    expect(subnetHost(s, 300)).toBe('198.18.1.44');
    expect(subnetsOverlap(s, parseSubnet('198.18.200.0/24'))).toBe(true);
    expect(subnetsOverlap(s, parseSubnet('198.19.0.0/16'))).toBe(false);
    expect(() => subnetHost(parseSubnet('10.0.0.0/29'), 7)).toThrow(/no room/);
  });

  it('runs MPI over TCP between nodes and shared memory within one, unless told otherwise', () => {
    const st = {
      hostfile: '/run/t/hostfile',
      agent: '/run/t/agent',
      dataSubnet: '198.19.0.0/16',
      mgmtSubnet: '198.18.0.0/16',
    } as TestbedState;
    const btlOf = (args: string[]): string | undefined => args[args.indexOf('btl') + 1];
    expect(DEFAULT_BTL).toBe('tcp,vader,self');
    expect(btlOf(mpirunArgsFor(st))).toBe('tcp,vader,self');
    expect(btlOf(mpirunArgsFor(st, { btl: 'tcp,self' }))).toBe('tcp,self');
    expect(() => mpirunArgsFor(st, { btl: 'vader,self' })).toThrow(/bad btl list "vader,self"/);
    expect(() => mpirunArgsFor(st, { btl: 'tcp,self;rm' })).toThrow(/bad btl list/);
  });
});
