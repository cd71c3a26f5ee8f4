// The collective benchmark's options: the defaults (quick and full) and the command line.
import os from 'node:os';
import path from 'node:path';

import { packageRoot, shimLibraryPath, wanemuPath } from '../../src/native/paths.js';
import { DEFAULT_BTL } from '../../src/testbed/launch.js';
import { isTestbedMtu, LAN_MODES, type LanMode } from '../../src/testbed/state.js';
import { COLLS, type CollName } from './bounds.js';
import { MODES, type BenchOptions, type Config, type Mode } from './types.js';

const MiB = 1 << 20;
export const FULL_SIZES = [8, 64, 512, 4096, 16384, 65536, 262144, MiB, 4 * MiB];
export const QUICK_SIZES = [8, 65536, MiB];
export const ALL_CONFIGS: Config[] = [
  { layout: '8x1', placement: 'contiguous' },
  { layout: '8x1', placement: 'interleaved' },
  { layout: '2x4', placement: 'contiguous' },
  { layout: '2x4', placement: 'interleaved' },
];

export function defaultOptions(quick = false): BenchOptions {
  return {
    out: path.join(packageRoot, 'bench', 'results'),
    quick,
    configs: ALL_CONFIGS,
    modes: MODES,
    colls: COLLS,
    sizes: quick ? QUICK_SIZES : FULL_SIZES,
    reps: 1,
    orderOffset: 0,
    paired: true,
    printIters: false,
    warmup: 2,
    iters: quick ? 5 : 12,
    minIters: 3,
    budgetMs: quick ? 250 : 600,
    maxPointMs: quick ? 3000 : 6000,
    count: quick ? 2 : 4,
    countBudgetMs: quick ? 200 : 400,
    rttMs: 10,
    bandwidth: '1gbit',
    mtu: null,
    lan: 'kernel',
    stateDir: path.join(os.tmpdir(), 'sitempi-bench-coll-testbed'),
    prefix: 'smbench',
    mgmtSubnet: '198.19.240.0/24',
    dataSubnet: '198.19.241.0/24',
    wanemuPath,
    shimPath: shimLibraryPath,
    shimEnv: [],
    hanProbe: true,
    tcpIdleRestart: true,
    tcpCongestion: null,
    btl: DEFAULT_BTL,
    keepUp: false,
    runTimeoutS: quick ? 180 : 540,
    log: (l) => process.stderr.write(`[bench] ${l}\n`),
  };
}

export function parseLayout(layout: string): { nodes: number; slots: number } {
  const m = /^(\d+)x(\d+)$/.exec(layout);
  if (!m) throw new Error(`bad layout "${layout}" (NxK: N nodes, half per site, K slots each; e.g. 8x1, 2x4)`);
  const nodes = Number(m[1]);
  const slots = Number(m[2]);
  if (nodes < 2 || nodes % 2 !== 0 || slots < 1) throw new Error(`bad layout "${layout}": N must be even and ≥ 2`);
  return { nodes, slots };
}

const USAGE = `usage: node dist/bench/collectives/run.js [--quick] [--out DIR]
  [--configs 8x1/contiguous,8x1/interleaved,2x4/contiguous,2x4/interleaved]
  [--modes default,han,sitempi] [--colls barrier,bcast,reduce,allreduce,gather,allgather,alltoall,reduce_scatter]
  [--sizes 8,64,512,4k,16k,64k,256k,1m,4m] [--reps N] [--order-offset K] [--unpaired]
  [--print-iters]   (every timed call's latency in the JSON results: iters_us)
  [--iters N] [--min-iters N] [--warmup N]
  [--no-han-probe]   (time HAN everywhere: also where its probe job finds it gives up and runs the default, and at the collectives it leaves to tuned)
  [--budget-ms MS] [--max-point-ms MS] [--count N] [--count-budget-ms MS] [--rtt-ms MS] [--bandwidth 1gbit]
  [--mtu BYTES]   (the testbed's links' MTU, 576..65535; default 65000)
  [--lan kernel|emulated]   (same-site packets on a bridge per site, or through the WAN emulator)
  [--no-tcp-idle-restart]   (the nodes' TCP keeps its window across idle gaps: tcp_slow_start_after_idle=0)
  [--tcp-cc NAME]   (the nodes' TCP congestion control, e.g. cubic; default: the host's)
  [--btl LIST]   (Open MPI's transports; default ${DEFAULT_BTL}: shared memory within a node; tcp,self: loopback TCP there too)
  [--state-dir DIR] [--prefix P] [--mgmt-subnet CIDR] [--data-subnet CIDR] [--keep-up]
  [--shim LIB] [--shim-env K=V,...] [--wanemu BIN] [--timeout-s S]   (default: $SITEMPI_BUILD_DIR or build/Release)
  [--from-json FILE[,FILE...]]   (only re-render the .md and .svg from a results file; from several
                                full runs, each point's median over the runs, with its spread; a file
                                that already combines runs enters as its runs)`;

function parseSizeArg(s: string): number {
  const m = /^([0-9]+)([kmg]?)(i?b)?$/i.exec(s.trim());
  if (!m) throw new Error(`bad size ${s}`);
  const scale: Record<string, number> = { '': 1, k: 1024, m: MiB, g: 1024 * MiB };
  return Number(m[1]) * (scale[(m[2] ?? '').toLowerCase()] as number);
}

export function parseArgs(argv: string[]): BenchOptions | { fromJson: string[]; out: string } {
  const quick = argv.includes('--quick');
  const o = defaultOptions(quick);
  let fromJson: string[] | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return x;
    };
    switch (a) {
      case '--quick':
        break;
      case '--out':
        o.out = path.resolve(v());
        break;
      case '--configs':
        o.configs = v()
          .split(',')
          .map((c) => {
            const [layout, placement] = c.split('/');
            if (!layout || (placement !== 'contiguous' && placement !== 'interleaved'))
              throw new Error(`bad config ${c} (e.g. 8x1/interleaved)`);
            parseLayout(layout);
            return { layout, placement };
          });
        break;
      case '--modes':
        o.modes = v()
          .split(',')
          .map((m) => {
            if (!MODES.includes(m as Mode)) throw new Error(`bad mode ${m}`);
            return m as Mode;
          });
        break;
      case '--colls':
        o.colls = v()
          .split(',')
          .map((c) => {
            if (!COLLS.includes(c as CollName)) throw new Error(`bad collective ${c}`);
            return c as CollName;
          });
        break;
      case '--sizes':
        o.sizes = v().split(',').map(parseSizeArg);
        break;
      case '--reps':
        o.reps = Number(v());
        break;
      case '--order-offset': {
        const k = Number(v());
        if (!Number.isInteger(k) || k < 0) throw new Error(`bad --order-offset ${k} (0, 1, 2, ...)`);
        o.orderOffset = k;
        break;
      }
      case '--unpaired':
        o.paired = false;
        break;
      case '--print-iters':
        o.printIters = true;
        break;
      case '--iters':
        o.iters = Number(v());
        break;
      case '--min-iters':
        o.minIters = Number(v());
        break;
      case '--warmup':
        o.warmup = Number(v());
        break;
      case '--budget-ms':
        o.budgetMs = Number(v());
        break;
      case '--max-point-ms':
        o.maxPointMs = Number(v());
        break;
      case '--count':
        o.count = Number(v());
        break;
      case '--count-budget-ms':
        o.countBudgetMs = Number(v());
        break;
      case '--rtt-ms':
        o.rttMs = Number(v());
        break;
      case '--bandwidth':
        o.bandwidth = v();
        break;
      case '--mtu': {
        const mtu = Number(v());
        if (!isTestbedMtu(mtu)) throw new Error(`bad --mtu ${mtu} (576..65535)`);
        o.mtu = mtu;
        break;
      }
      case '--lan': {
        const lan = v();
        if (!LAN_MODES.includes(lan as LanMode)) throw new Error(`bad --lan ${lan} (${LAN_MODES.join(' or ')})`);
        o.lan = lan as LanMode;
        break;
      }
      case '--state-dir':
        o.stateDir = path.resolve(v());
        break;
      case '--prefix':
        o.prefix = v();
        break;
      case '--mgmt-subnet':
        o.mgmtSubnet = v();
        break;
      case '--data-subnet':
        o.dataSubnet = v();
        break;
      case '--no-tcp-idle-restart':
        o.tcpIdleRestart = false;
        break;
      case '--tcp-cc': {
        const cc = v();
        if (!/^[a-z0-9_]+$/.test(cc)) throw new Error(`--tcp-cc: not a congestion control name: ${cc}`);
        o.tcpCongestion = cc;
        break;
      }
      case '--btl':
        o.btl = v();
        break;
      case '--no-han-probe':
        o.hanProbe = false;
        break;
      case '--keep-up':
        o.keepUp = true;
        break;
      case '--shim':
        o.shimPath = path.resolve(v());
        break;
      case '--shim-env':
        o.shimEnv = v()
          .split(',')
          .map((kv) => {
            if (!/^SITEMPI_[A-Z_]+=\S*$/.test(kv))
              throw new Error(`bad --shim-env entry ${kv} (e.g. SITEMPI_COLL_SEGMENT_BYTES=0)`);
            return kv;
          });
        break;
      case '--wanemu':
        o.wanemuPath = path.resolve(v());
        break;
      case '--timeout-s':
        o.runTimeoutS = Number(v());
        break;
      case '--from-json':
        fromJson = v()
          .split(',')
          .map((f) => path.resolve(f));
        break;
      case '-h':
      case '--help':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${a}\n${USAGE}`);
    }
  }
  if (fromJson) return { fromJson, out: o.out };
  return o;
}
