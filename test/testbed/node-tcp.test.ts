// The nodes' TCP counters: the /proc/net parser, finding a process by its network namespace, and
// real segments counted on a real loopback connection (this process's own namespace stands in for
// a node's; the collective benchmark's test reads them in the testbed's namespaces).
import { once } from 'node:events';
import net from 'node:net';
import { readlinkSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { parseProcNet, processesIn, tcpCountersOf, tcpSample, tcpSpan } from '../../src/testbed/node-tcp.js';

describe("the nodes' TCP counters", () => {
  it('parses the name and value line pairs of /proc/net/snmp and netstat', () => {
    const text = [
      'Ip: Forwarding DefaultTTL',
      'Ip: 1 64',
      'Tcp: RtoAlgorithm MaxConn OutSegs RetransSegs',
      'Tcp: 1 -1 5000 12',
      'TcpExt: SyncookiesSent TCPTimeouts TCPLossProbes',
      'TcpExt: 0 3 7',
      'Udp: InDatagrams', // a name line without its values: skipped
      '',
    ].join('\n');
    const m = parseProcNet(text);
    expect(m.get('Tcp.OutSegs')).toBe(5000);
    expect(m.get('Tcp.RetransSegs')).toBe(12);
    expect(m.get('Tcp.MaxConn')).toBe(-1);
    expect(m.get('TcpExt.TCPTimeouts')).toBe(3);
    expect(m.get('TcpExt.TCPLossProbes')).toBe(7);
    expect(m.get('Ip.DefaultTTL')).toBe(64);
    expect(m.has('Udp.InDatagrams')).toBe(false);
    // lines of different prefixes or lengths do not pair up
    expect(parseProcNet('Tcp: A B\nIp: 1 2\n').size).toBe(0);
    expect(parseProcNet('Tcp: A B\nTcp: 1\n').size).toBe(0);
  });

  it('finds a process in a namespace, and none in one that does not exist', () => {
    const found = processesIn(['/proc/self/ns/net', '/nonexistent/netns']);
    expect(found.size).toBe(1);
    const pid = found.get('/proc/self/ns/net') as number;
    expect(readlinkSync(`/proc/${pid}/ns/net`)).toBe(readlinkSync('/proc/self/ns/net'));
  });

  it('counts the segments of a real connection, and nothing for a process that is gone', async () => {
    const pid = processesIn(['/proc/self/ns/net']).get('/proc/self/ns/net') as number;
    const before = tcpSample([pid]);
    expect(before).not.toBeNull();
    // 64 writes, each answered, over loopback: at least one segment each way per exchange
    const server = net.createServer((s) => s.on('data', (d) => s.write(d)));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const c = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await once(c, 'connect');
    for (let i = 0; i < 64; i++) {
      c.write('x'.repeat(100));
      await once(c, 'data');
    }
    c.destroy();
    server.close();
    const span = tcpSpan(before, tcpSample([pid]));
    expect(span?.outSegs).toBeGreaterThanOrEqual(128);
    expect(span?.timeouts).toBeGreaterThanOrEqual(0);
    expect(span?.lossProbes).toBeGreaterThanOrEqual(0);
    expect(tcpCountersOf(2 ** 22 + 1)).toBeNull(); // above pid_max's default: no such process
    expect(tcpSample([pid, 2 ** 22 + 1])).toBeNull();
    expect(tcpSample([])).toBeNull();
    expect(tcpSpan(before, null)).toBeNull();
  });
});
