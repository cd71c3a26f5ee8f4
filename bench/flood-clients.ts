// Flooding clients for the monitor fuzzer, in a process of their own so that their CPU does not
// count against the monitor's: N connections, each a rank of its own job streaming valid batches
// of 2000 records as fast as the monitor reads them, for S seconds.
//
//   node dist/bench/flood-clients.js tcp://127.0.0.1:PORT N S [seed]
import net from 'node:net';
import { addon } from '../src/native/addon.js';
import { encodeHello } from '../src/wire/messages.js';

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

const [addr, nArg, secArg, seedArg] = process.argv.slice(2);
const n = Number(nArg), deadline = Date.now() + Number(secArg) * 1000;
const m = /^tcp:\/\/(.*):(\d+)$/.exec(addr ?? '');
if (!m || !(n > 0)) { process.stderr.write('usage: flood-clients tcp://host:port N SECONDS [seed]\n'); process.exit(2); }
const rnd = rng(Number(seedArg) || 1);
const R = 2000, P = 8;
const cols = {
  fn: new Uint32Array(R), peer: new Int32Array(R), bytes: new Float64Array(R), comm: new Uint32Array(R), alg: new Uint32Array(R),
  start: new Float64Array(R), duration: new Float64Array(R),
};
for (let i = 0; i < R; i++) {
  cols.fn[i] = i % 3 === 0 ? 1 : 0; cols.peer[i] = Math.floor(rnd() * P); cols.bytes[i] = Math.floor(rnd() * 65536);
  cols.start[i] = i * 1000; cols.duration[i] = 100;
}
let open = 0;
for (let k = 0; k < n; k++) {
  const s = net.connect(Number(m[2]), m[1]);
  open++;
  s.on('error', () => {});
  s.on('close', () => { if (--open === 0) process.exit(0); });
  let seq = 0;
  // a few batches per turn: a write to loopback may complete at once, and a loop of them would
  // starve this process's other connections
  const pump = () => {
    if (Date.now() >= deadline) { s.end(); return; }
    for (let i = 0; i < 8; i++) {
      if (!s.write(addon.encodeBatch({ seq: seq++, dropped: 0, epoch: 0, ...cols }))) { s.once('drain', pump); return; }
    }
    setImmediate(pump);
  };
  s.on('connect', () => { s.write(encodeHello({ job: `flood-${k}`, rank: 0, size: P, host: 'flood', pid: k, startNs: 1n })); pump(); });
}
setTimeout(() => process.exit(0), Number(secArg) * 1000 + 5000).unref();
