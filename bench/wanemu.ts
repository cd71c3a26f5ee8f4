// wanemu's CPU per forwarded GB: bulk TCP through a 2-site testbed link (default 1 Gbit/s, 10 ms
// RTT), wanemu's user + system time from /proc/PID/stat over the bytes it forwarded, and its share
// of one core. With --baseline, an older wanemu binary runs alternately with this one (a fresh
// testbed each time), so that the two are compared side by side on the same host state.
//
//   node dist/bench/wanemu.js [--baseline /tmp/wanemu-old] [--wanemu BIN] [--bytes 512m] [--reps 3]
//        [--rtt-ms 10] [--bandwidth 1gbit] [--json FILE]
//
// Run as root (the testbed needs namespaces). Testbed: prefix smwanb, state in the temp directory,
// subnets 198.19.248.128/25 and 198.19.249.128/25 (the wanemu test uses the lower halves).
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { wanemuPath } from '../src/native/paths.js';
import { down, parseBandwidth, parseBytes, up } from '../src/testbed/index.js';
import { buildBulk, bulkTransfer, type Transfer } from './wanemu-transfer.js';

interface Options {
  binaries: { label: string; path: string }[];
  bytes: number;
  reps: number;
  rttMs: number;
  bandwidth: string;
  json: string | null;
}

const TESTBED = {
  stateDir: path.join(os.tmpdir(), 'sitempi-wanemu-bench-testbed'),
  prefix: 'smwanb',
  mgmtSubnet: '198.19.248.128/25',
  dataSubnet: '198.19.249.128/25',
};

function parseArgs(argv: string[]): Options {
  const o: Options = {
    binaries: [{ label: 'current', path: wanemuPath }],
    bytes: 512 << 20,
    reps: 3,
    rttMs: 10,
    bandwidth: '1gbit',
    json: null,
  };
  let baseline: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    if (a === '--baseline') baseline = path.resolve(v());
    else if (a === '--wanemu') o.binaries[0] = { label: 'current', path: path.resolve(v()) };
    else if (a === '--bytes') o.bytes = parseBytes(v());
    else if (a === '--reps') o.reps = Math.max(1, Number(v()));
    else if (a === '--rtt-ms') o.rttMs = Number(v());
    else if (a === '--bandwidth') o.bandwidth = v();
    else if (a === '--json') o.json = v();
    else throw new Error(`unknown argument ${a}`);
  }
  if (baseline) o.binaries.unshift({ label: 'baseline', path: baseline });
  return o;
}

/** The host's state: ns per iteration of a plain typed-array loop (about 1 on a quiet core). */
function loopNs(): number {
  const ref = new Float64Array(1 << 20);
  const t0 = performance.now();
  for (let k = 0; k < 10; k++) for (let i = 0; i < ref.length; i++) ref[i] += i * 0.5;
  return ((performance.now() - t0) * 1e6) / (10 * ref.length);
}

interface Point extends Transfer {
  label: string;
  rep: number;
  loadavg: number[];
  cpuSPerGB: number | null;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const h = Math.floor(s.length / 2);
  return s.length % 2 ? (s[h] as number) : ((s[h - 1] as number) + (s[h] as number)) / 2;
};

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const bin = buildBulk();
  const bw = parseBandwidth(o.bandwidth);
  const probeBefore = loopNs();
  const points: Point[] = [];
  try {
    for (let rep = 0; rep < o.reps; rep++) {
      // Alternate the order so that neither binary always runs first.
      const order = rep % 2 ? [...o.binaries].reverse() : o.binaries;
      for (const b of order) {
        await down(TESTBED);
        const st = await up(
          { sites: { A: 1, B: 1 }, slots: 1, rttMs: o.rttMs, bandwidth: bw },
          { ...TESTBED, wanemuPath: b.path },
        );
        const loadavg = os.loadavg();
        const t = await bulkTransfer(st, bin, 'a0', 'b0', o.bytes);
        const cpuSPerGB = t.cpu ? t.cpu.cpuS / (t.forwardedBytes / 1e9) : null;
        points.push({ ...t, label: b.label, rep, loadavg, cpuSPerGB });
        process.stderr.write(
          `[wanemu] ${b.label} rep ${rep + 1}: ${(t.bps / 1e6).toFixed(0)} Mbit/s, ` +
            `${(t.forwardedBytes / 1e6).toFixed(0)} MB forwarded, wanemu ${t.cpu?.cpuS.toFixed(2)} s CPU = ` +
            `${cpuSPerGB?.toFixed(3)} s/GB, ${((t.cpu?.share ?? 0) * 100).toFixed(1)}% of a core` +
            `${t.ok ? '' : ', DATA MISMATCH'} (load ${loadavg[0]?.toFixed(1)})\n`,
        );
      }
    }
  } finally {
    await down(TESTBED);
  }
  const probeAfter = loopNs();
  const summary = o.binaries.map((b) => {
    const ps = points.filter((p) => p.label === b.label && p.cpu);
    return {
      label: b.label,
      path: b.path,
      runs: ps.length,
      cpuSPerGB: median(ps.map((p) => p.cpuSPerGB as number)),
      coreShare: median(ps.map((p) => (p.cpu as { share: number }).share)),
      mbps: median(ps.map((p) => p.bps / 1e6)),
      allOk: ps.every((p) => p.ok),
    };
  });
  console.log(
    `wanemu CPU per forwarded GB: bulk TCP a0 -> b0, ${o.bytes} B per run, ${o.reps} runs each, ` +
      `RTT ${o.rttMs} ms, ${o.bandwidth}`,
  );
  console.log('| wanemu | runs | CPU s per GB (median) | share of one core | Mbit/s | data intact |');
  console.log('|---|---:|---:|---:|---:|---|');
  for (const s of summary)
    console.log(
      `| ${s.label} | ${s.runs} | ${s.cpuSPerGB.toFixed(3)} | ${(s.coreShare * 100).toFixed(1)}% | ${s.mbps.toFixed(0)} | ${s.allOk ? 'yes' : 'NO'} |`,
    );
  const [base, cur] = summary.length === 2 ? summary : [null, null];
  if (base && cur) console.log(`current / baseline CPU per GB: ${(cur.cpuSPerGB / base.cpuSPerGB).toFixed(2)}`);
  const loads = points.map((p) => p.loadavg[0] as number);
  console.log(
    `host state: load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}, ` +
      `${probeBefore.toFixed(2)} / ${probeAfter.toFixed(2)} ns per plain loop iteration before / after ` +
      `(about 1 on a quiet core), ${os.cpus().length} CPUs`,
  );
  if (o.json) {
    writeFileSync(
      o.json,
      `${JSON.stringify({ options: o, summary, points, host: { probeBefore, probeAfter, cpus: os.cpus().length } }, null, 1)}\n`,
    );
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  });
}
