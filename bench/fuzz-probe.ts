// The probe of the monitor fuzzer (bench/fuzz-monitor.ts), in a process of its own as a rank is:
// every EVERY ms until S seconds have passed it opens a new connection, sends a Batch before any
// Hello and times the monitor's Error frame. Its own event loop is idle, so what it measures is the
// monitor's. Prints {"latenciesMs":[...]} at the end (a probe unanswered in 10 s counts 10 000).
//
//   node dist/bench/fuzz-probe.js tcp://127.0.0.1:PORT S [EVERY]
import net from 'node:net';
import { FrameDecoder } from '../src/wire/frames.js';
import { decodeEnvelope, encodeError } from '../src/wire/messages.js';
import { randomBatch } from './fuzz-streams.js';
import { rng } from './records.js';

const TIMEOUT_MS = 10_000;

/** Time (ms) until the monitor answers a Batch before Hello with an Error frame. */
function probe(host: string, port: number): Promise<number> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const s = net.connect(port, host);
    const dec = new FrameDecoder();
    const done = (ms: number) => {
      clearTimeout(timer);
      s.destroy();
      resolve(ms);
    };
    const timer = setTimeout(() => done(TIMEOUT_MS), TIMEOUT_MS);
    s.on('error', () => {});
    s.on('connect', () => s.write(randomBatch(rng(1), 0, 1, 2)));
    s.on('data', (d) => {
      for (const f of dec.push(d))
        if (decodeEnvelope(f).kind === 'error') done(Number(process.hrtime.bigint() - t0) / 1e6);
    });
  });
}

const [addr, secArg, everyArg] = process.argv.slice(2);
const m = /^tcp:\/\/(.*):(\d+)$/.exec(addr ?? '');
if (!m || !(Number(secArg) > 0)) {
  process.stderr.write('usage: fuzz-probe tcp://host:port SECONDS [EVERY_MS]\n');
  process.exit(2);
}
const deadline = Date.now() + Number(secArg) * 1000;
const every = Number(everyArg) || 250;
// the first decode compiles protobufjs's decoders: done here, not inside the first probe's time
decodeEnvelope(encodeError('warm-up').subarray(4));
const latenciesMs: number[] = [];
while (Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, every));
  latenciesMs.push(await probe(m[1], Number(m[2])));
}
process.stdout.write(JSON.stringify({ latenciesMs }) + '\n');
