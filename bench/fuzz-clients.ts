// The clients of the monitor fuzzer (bench/fuzz-monitor.ts), in a process of their own so that
// their CPU does not count against the monitor's: C connections at a time sending random and
// mutated streams (fuzz-streams.ts), whole, cut or in small pieces, and F flooding connections,
// each a rank of its own job streaming valid batches of 2000 records as fast as the monitor reads
// them, for S seconds. Prints {"connections":..,"frames":..} at the end.
//
//   node dist/bench/fuzz-clients.js tcp://127.0.0.1:PORT C F S [seed]
import net from 'node:net';
import { addon } from '../src/native/addon.js';
import { encodeHello } from '../src/wire/messages.js';
import { randomStream, withLength } from './fuzz-streams.js';
import { rng } from './records.js';

const [addr, cArg, fArg, secArg, seedArg] = process.argv.slice(2);
const nClients = Number(cArg),
  nFlood = Number(fArg),
  deadline = Date.now() + Number(secArg) * 1000;
const m = /^tcp:\/\/(.*):(\d+)$/.exec(addr ?? '');
if (!m || !(nClients >= 0) || !(nFlood >= 0)) {
  process.stderr.write('usage: fuzz-clients tcp://host:port CLIENTS FLOOD SECONDS [seed]\n');
  process.exit(2);
}
const seed = Number(seedArg) || 1;
const connect = () => {
  const s = net.connect(Number(m[2]), m[1]);
  s.on('error', () => {});
  s.on('data', () => {});
  return s;
};
const stats = { connections: 0, frames: 0 };

async function client(k: number): Promise<void> {
  const rnd = rng(seed * 1_000_003 + k);
  while (Date.now() < deadline) {
    const frames = randomStream(rnd);
    const bytes = Buffer.concat(frames.map(withLength));
    // sometimes a partial frame at the end, sometimes sent in small pieces
    const cut = rnd() < 0.1 ? Math.floor(rnd() * bytes.length) : bytes.length;
    const s = connect();
    stats.connections++;
    stats.frames += frames.length;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => s.destroy(), 50 + rnd() * 300);
      s.on('close', () => {
        clearTimeout(t);
        resolve();
      });
      s.on('connect', () => {
        const piece = rnd() < 0.3 ? 1 + Math.floor(rnd() * 64) : cut;
        for (let i = 0; i < cut; i += piece) s.write(bytes.subarray(i, Math.min(cut, i + piece)));
        if (rnd() < 0.7) s.end();
      });
    });
  }
}

function flooder(k: number): Promise<void> {
  const rnd = rng(seed * 7919 + k);
  const R = 2000,
    P = 8;
  const cols = {
    fn: new Uint32Array(R),
    peer: new Int32Array(R),
    bytes: new Float64Array(R),
    comm: new Uint32Array(R),
    alg: new Uint32Array(R),
    start: new Float64Array(R),
    duration: new Float64Array(R),
  };
  for (let i = 0; i < R; i++) {
    cols.fn[i] = i % 3 === 0 ? 1 : 0;
    cols.peer[i] = Math.floor(rnd() * P);
    cols.bytes[i] = Math.floor(rnd() * 65536);
    cols.start[i] = i * 1000;
    cols.duration[i] = 100;
  }
  const s = connect();
  stats.connections++;
  let seq = 0;
  // a few batches per turn: a write to loopback may complete at once, and a loop of them would
  // starve this process's other connections
  const pump = () => {
    if (Date.now() >= deadline) {
      s.end();
      return;
    }
    for (let i = 0; i < 8; i++) {
      stats.frames++;
      if (!s.write(addon.encodeBatch({ seq: seq++, dropped: 0, epoch: 0, ...cols }))) {
        s.once('drain', pump);
        return;
      }
    }
    setImmediate(pump);
  };
  s.on('connect', () => {
    s.write(encodeHello({ job: `flood-${k}`, rank: 0, size: P, host: 'flood', pid: k, startNs: 1n }));
    pump();
  });
  return new Promise((resolve) => s.on('close', () => resolve()));
}

const finish = () => {
  process.stdout.write(JSON.stringify(stats) + '\n');
  process.exit(0);
};
// The stats are printed even when some connection is still open at the deadline (a flooder
// whose socket the busy monitor has not drained yet): the parent reads them from the last line.
setTimeout(finish, Number(secArg) * 1000 + 5000).unref();
void Promise.all([
  ...Array.from({ length: nClients }, (_, k) => client(k)),
  ...Array.from({ length: nFlood }, (_, k) => flooder(k)),
]).then(finish);
