// Server-sent events to the dashboard's pages. Every event is a whole state (never a delta), so a
// client that has not taken the last one yet simply misses this one (coalescing): nothing is
// written to a socket that still holds unsent bytes, and a client's buffer never holds more than
// one event. A client that stays stalled for `maxStalls` ticks in a row is dropped.
import type { ServerResponse } from 'node:http';

export interface SseOptions {
  /** ticks in a row a client may leave an event unsent before it is dropped */
  maxStalls: number;
}

interface Client {
  res: ServerResponse;
  /** the job whose detail it wants (null: the job list only) */
  job: string | null;
  stalls: number;
}

export class SseHub {
  private readonly clients = new Set<Client>();
  /** clients dropped for stalling, since the start */
  dropped = 0;
  /** events not written because the client had not taken the one before */
  coalesced = 0;

  constructor(private readonly opts: SseOptions) {}

  get size(): number {
    return this.clients.size;
  }

  /** Starts an event stream on `res` and sends it `first` at once. */
  add(res: ServerResponse, job: string | null, first: string): void {
    const c: Client = { res, job, stalls: 0 };
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-store',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: 2000\n\n`);
    res.write(frame(first));
    this.clients.add(c);
    const gone = () => this.clients.delete(c);
    res.on('close', gone);
    res.on('error', gone);
  }

  /** The job selections of the connected clients (what the next broadcast needs payloads for). */
  selections(): Set<string | null> {
    return new Set([...this.clients].map((c) => c.job));
  }

  /** Sends each client the payload of its selection, skipping (and in the end dropping) stalled ones. */
  broadcast(payload: (job: string | null) => string): void {
    const cache = new Map<string | null, string>();
    for (const c of this.clients) {
      if (c.res.writableLength > 0) {
        this.coalesced++;
        if (++c.stalls >= this.opts.maxStalls) {
          this.dropped++;
          this.clients.delete(c);
          c.res.destroy();
        }
        continue;
      }
      c.stalls = 0;
      let p = cache.get(c.job);
      if (p === undefined) cache.set(c.job, (p = frame(payload(c.job))));
      c.res.write(p);
    }
  }

  /** Bytes written but not yet taken by the clients, all of them. */
  bufferedBytes(): number {
    let n = 0;
    for (const c of this.clients) n += c.res.writableLength;
    return n;
  }

  /** Ends every stream with a `closed` event: the page keeps the last state and stops retrying. */
  closeAll(): void {
    for (const c of this.clients) c.res.end('event: closed\ndata: {}\n\n');
    this.clients.clear();
  }
}

const frame = (data: string) => `event: state\ndata: ${data}\n\n`;
