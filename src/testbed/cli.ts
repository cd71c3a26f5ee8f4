// `sitempi testbed ...`: the command-line face of the testbed library.
import {
  counters,
  down,
  links,
  migrate,
  mpirunArgs,
  setLink,
  status,
  TestbedError,
  up,
  type TestbedOptions,
  type TestbedSpec,
} from './testbed.js';
import type { LanMode } from './state.js';
import {
  formatBandwidth,
  formatMs,
  parseBandwidth,
  parseBytes,
  parseDurationMs,
  parseLinkSpec,
  parseSites,
  type LinkSpec,
} from './units.js';

const USAGE = `usage: sitempi testbed <command> [options]

commands:
  up [--sites A=4,B=4] [--rtt 10ms] [--bandwidth 1gbit] [--slots N]
     [--link A-B:rtt=20ms,bw=100mbit]...   (A=1x4: 1 node with 4 slots; "A>B:" one direction)
     [--queue BYTES] [--mtu 65000] [--lan emulated|kernel] [--prefix smpi] [--wanemu PATH]
     [--mgmt-subnet 198.18.0.0/16] [--data-subnet 198.19.0.0/16]
  status [--json]
  migrate NODE SITE [--downtime MS] [--drop]
  links [--json]
  link A B [--rtt 20ms | --latency 10ms] [--bandwidth 100mbit] [--queue BYTES] [--one-way]
  counters [--json]
  mpirun-args [--nodes a0,b0] [--btl tcp,vader,self]   (prints the mpirun arguments for this testbed, one per line)
  down [--prefix smpi]

common options: --state-dir DIR (default $SITEMPI_TESTBED_DIR or /run/sitempi-testbed)
`;

interface Parsed {
  positional: string[];
  flags: Map<string, string[]>;
}

const BOOLEAN_FLAGS = new Set(['json', 'drop', 'one-way', 'help']);

function parseArgs(argv: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      let key = a.slice(2);
      let val: string | undefined;
      const eq = key.indexOf('=');
      if (eq >= 0) {
        val = key.slice(eq + 1);
        key = key.slice(0, eq);
      } else if (BOOLEAN_FLAGS.has(key)) {
        val = 'true';
      } else {
        val = argv[++i];
        if (val === undefined) throw new TestbedError(`--${key} needs a value`);
      }
      const list = flags.get(key) ?? [];
      list.push(val);
      flags.set(key, list);
    } else if (a === '-h') {
      flags.set('help', ['true']);
    } else {
      positional.push(a);
    }
  }
  return { positional, flags };
}

function one(p: Parsed, key: string): string | undefined {
  const v = p.flags.get(key);
  return v ? v[v.length - 1] : undefined;
}

function checkFlags(p: Parsed, allowed: string[]): void {
  for (const k of p.flags.keys()) {
    if (!allowed.includes(k) && k !== 'state-dir' && k !== 'help') throw new TestbedError(`unknown option --${k}`);
  }
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => pad(c, widths[i] as number))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function formatBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(2)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(2)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

export async function testbedCli(argv: string[]): Promise<number> {
  let p: Parsed;
  try {
    p = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`sitempi testbed: ${(e as Error).message}\n`);
    return 2;
  }
  const cmd = p.positional[0];
  if (!cmd || cmd === 'help' || one(p, 'help')) {
    process.stdout.write(USAGE);
    return cmd || one(p, 'help') ? 0 : 2;
  }
  const stateDir = one(p, 'state-dir');
  const base = stateDir !== undefined ? { stateDir } : {};
  const out = (s: string): void => {
    process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
  };
  try {
    switch (cmd) {
      case 'up': {
        checkFlags(p, [
          'sites',
          'rtt',
          'latency',
          'bandwidth',
          'slots',
          'link',
          'queue',
          'mtu',
          'lan',
          'prefix',
          'wanemu',
          'mgmt-subnet',
          'data-subnet',
          'json',
        ]);
        if (p.positional.length > 1) throw new TestbedError(`unexpected argument ${p.positional[1]}`);
        const spec: TestbedSpec = {};
        const sites = one(p, 'sites');
        if (sites) spec.sites = parseSites(sites);
        const rtt = one(p, 'rtt');
        if (rtt) spec.rttMs = parseDurationMs(rtt);
        const lat = one(p, 'latency');
        if (lat) spec.latencyMs = parseDurationMs(lat);
        const bw = one(p, 'bandwidth');
        if (bw) spec.bandwidth = parseBandwidth(bw);
        const slots = one(p, 'slots');
        if (slots) spec.slots = Number(slots);
        const q = one(p, 'queue');
        if (q) spec.queueBytes = parseBytes(q);
        const linkSpecs: LinkSpec[] = (p.flags.get('link') ?? []).map(parseLinkSpec);
        if (linkSpecs.length > 0) spec.links = linkSpecs;
        const opts: TestbedOptions = { ...base };
        const prefix = one(p, 'prefix');
        if (prefix) opts.prefix = prefix;
        const wanemu = one(p, 'wanemu');
        if (wanemu) opts.wanemuPath = wanemu;
        const mgmt = one(p, 'mgmt-subnet');
        if (mgmt) opts.mgmtSubnet = mgmt;
        const data = one(p, 'data-subnet');
        if (data) opts.dataSubnet = data;
        const mtu = one(p, 'mtu');
        if (mtu) opts.mtu = Number(mtu);
        const lan = one(p, 'lan');
        if (lan) opts.lan = lan as LanMode;
        const st = await up(spec, opts);
        if (one(p, 'json')) {
          out(JSON.stringify(st, null, 2));
        } else {
          out(
            `testbed up: ${st.nodes.length} nodes on ${st.sites.length} sites (${st.sites.join(', ')}), state in ${st.stateDir}`,
          );
          out(`run a job:  mpirun ${(await mpirunArgs(base)).join(' ')} -np N ./app`);
        }
        return 0;
      }
      case 'status': {
        checkFlags(p, ['json']);
        const s = await status(base);
        if (one(p, 'json')) {
          out(JSON.stringify(s, null, 2));
          return s.up && s.healthy ? 0 : 1;
        }
        if (!s.up) {
          out(`no testbed is up (state dir ${s.stateDir})`);
          return 1;
        }
        out(
          `testbed ${s.prefix} in ${s.stateDir}: ${s.healthy ? 'healthy' : 'UNHEALTHY'}; wanemu pid ${s.wanemu?.pid ?? '?'}; ` +
            `same-site packets ${s.lan === 'kernel' ? 'on a kernel LAN per site' : 'through wanemu'}`,
        );
        for (const pr of s.problems) out(`  problem: ${pr}`);
        out(
          table([
            ['NODE', 'HOST', 'SITE', 'HOME', 'SLOTS', 'DATA IP', 'MGMT IP', 'STATE'],
            ...s.nodes.map((n) => [
              n.name,
              n.host,
              n.site,
              n.homeSite,
              String(n.slots),
              n.dataIp,
              n.mgmtIp,
              !n.present ? 'missing' : n.downMsLeft > 0 ? `down ${n.downMsLeft.toFixed(0)}ms` : 'up',
            ]),
          ]),
        );
        out(`hostfile ${s.hostfile}\nagent    ${s.agent}`);
        return s.healthy ? 0 : 1;
      }
      case 'migrate': {
        checkFlags(p, ['downtime', 'drop', 'json']);
        const [, node, site] = p.positional;
        if (!node || !site || p.positional.length > 3)
          throw new TestbedError('usage: sitempi testbed migrate NODE SITE [--downtime MS] [--drop]');
        const dt = one(p, 'downtime');
        const r = await migrate(node, site, {
          ...base,
          downtimeMs: dt ? parseDurationMs(dt) : 0,
          mode: one(p, 'drop') ? 'drop' : 'hold',
        });
        if (one(p, 'json')) out(JSON.stringify(r));
        else if (r.from === r.to) out(`${r.node} is already on site ${r.to}`);
        else out(`${r.node}: ${r.from} -> ${r.to}${r.downtimeMs > 0 ? ` (downtime ${r.downtimeMs} ms)` : ' (live)'}`);
        return 0;
      }
      case 'links': {
        checkFlags(p, ['json']);
        const ls = await links(base);
        if (one(p, 'json')) {
          out(JSON.stringify(ls, null, 2));
          return 0;
        }
        out(
          table([
            ['FROM', 'TO', 'LATENCY', 'RTT', 'BANDWIDTH', 'QUEUE'],
            ...ls.map((l) => {
              const back = ls.find((x) => x.from === l.to && x.to === l.from);
              return [
                l.from,
                l.to,
                formatMs(l.latencyMs),
                back ? formatMs(l.latencyMs + back.latencyMs) : '-',
                formatBandwidth(l.bandwidthBps),
                l.effectiveQueueBytes === null
                  ? '-'
                  : formatBytes(l.effectiveQueueBytes) + (l.queueBytes ? '' : ' (auto)'),
              ];
            }),
          ]),
        );
        return 0;
      }
      case 'link': {
        checkFlags(p, ['rtt', 'latency', 'bandwidth', 'queue', 'one-way', 'json']);
        const [, a, b] = p.positional;
        if (!a || !b || p.positional.length > 3)
          throw new TestbedError('usage: sitempi testbed link A B [--rtt 20ms] [--bandwidth 100mbit]');
        const params: Parameters<typeof setLink>[2] = { ...base };
        const rtt = one(p, 'rtt');
        if (rtt) params.rttMs = parseDurationMs(rtt);
        const lat = one(p, 'latency');
        if (lat) params.latencyMs = parseDurationMs(lat);
        const bw = one(p, 'bandwidth');
        if (bw) params.bandwidth = parseBandwidth(bw);
        const q = one(p, 'queue');
        if (q) params.queueBytes = parseBytes(q);
        if (one(p, 'one-way')) params.oneWay = true;
        const changed = await setLink(a, b, params);
        for (const l of changed)
          out(`${l.from} -> ${l.to}: latency ${formatMs(l.latencyMs)}, ${formatBandwidth(l.bandwidthBps)}`);
        return 0;
      }
      case 'counters': {
        checkFlags(p, ['json']);
        const c = await counters(base);
        if (one(p, 'json')) {
          out(JSON.stringify(c, null, 2));
          return 0;
        }
        out(
          table([
            ['FROM', 'TO', 'BYTES', 'PACKETS', 'DROPPED PKTS', ''],
            ...c.links.map((l) => [
              l.from,
              l.to,
              String(l.bytes),
              String(l.packets),
              String(l.dropPackets),
              formatBytes(l.bytes),
            ]),
            ...c.local.map((l) => [
              l.site,
              l.site,
              String(l.bytes),
              String(l.packets),
              '0',
              `${formatBytes(l.bytes)} (same site)`,
            ]),
          ]),
        );
        return 0;
      }
      case 'mpirun-args': {
        checkFlags(p, ['nodes', 'btl']);
        const nodes = one(p, 'nodes');
        const btl = one(p, 'btl');
        const args = await mpirunArgs({
          ...base,
          ...(nodes ? { nodes: nodes.split(',') } : {}),
          ...(btl ? { btl } : {}),
        });
        out(args.join('\n'));
        return 0;
      }
      case 'down': {
        checkFlags(p, ['prefix']);
        const prefix = one(p, 'prefix');
        const r = await down({ ...base, ...(prefix ? { prefix } : {}) });
        out(r.removed ? 'testbed down' : 'no testbed was up');
        return 0;
      }
      default:
        process.stderr.write(`sitempi testbed: unknown command ${cmd}\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    process.stderr.write(`sitempi testbed ${cmd}: ${(e as Error).message}\n`);
    return 1;
  }
}
