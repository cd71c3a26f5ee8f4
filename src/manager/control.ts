// The manager's control socket: one JSON object per line each way. Clients (submit, jobs, cancel,
// nodes) and the nodes' agents send requests with the token; each gets one reply line. Lines are
// bounded, connections are bounded and idle ones closed: no client can block or exhaust the service.
import crypto from 'node:crypto';
import net from 'node:net';
import { listenOn, removeSocketFiles } from '../monitor/listen.js';

export const MAX_LINE_BYTES = 256 * 1024;
const MAX_CONNECTIONS = 256;
const IDLE_MS = 120_000;
const MAX_UNREAD_BYTES = 4 * 1024 * 1024;

export type Request = Record<string, unknown> & { op: string };
export type Reply = Record<string, unknown>;

function sameToken(a: string, b: string): boolean {
  const h = (s: string) => crypto.createHash('sha256').update(s).digest();
  return crypto.timingSafeEqual(h(a), h(b));
}

export class ControlServer {
  private readonly servers: net.Server[] = [];
  private readonly unixPaths: string[] = [];
  private readonly conns = new Set<net.Socket>();

  constructor(
    private readonly token: string | undefined,
    private readonly handle: (req: Request) => Promise<Reply> | Reply,
    private readonly onError: (e: Error) => void,
  ) {}

  async listen(addresses: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const a of addresses) {
      const l = await listenOn(a, (s) => this.accept(s), this.onError);
      this.servers.push(l.server);
      if (l.unixPath) this.unixPaths.push(l.unixPath);
      out.push(l.address);
    }
    return out;
  }

  private accept(s: net.Socket): void {
    if (this.conns.size >= MAX_CONNECTIONS) {
      s.end(JSON.stringify({ ok: false, error: 'too many connections' }) + '\n');
      return;
    }
    this.conns.add(s);
    s.setTimeout(IDLE_MS, () => s.destroy());
    s.on('error', () => s.destroy());
    s.on('close', () => this.conns.delete(s));
    let buf = '';
    let chain = Promise.resolve();
    s.setEncoding('utf8');
    let refused = false;
    s.on('data', (d: string) => {
      if (refused) return;
      buf += d;
      if (buf.length > MAX_LINE_BYTES && !buf.includes('\n')) {
        refused = true;
        buf = '';
        s.end(JSON.stringify({ ok: false, error: `request line over ${MAX_LINE_BYTES} bytes` }) + '\n');
        return;
      }
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.trim()) continue;
        // Replies go out in request order: one request at a time per connection.
        chain = chain.then(async () => {
          const reply = await this.answer(line);
          if (s.destroyed) return;
          // A client that sends without reading its replies is cut off, not buffered for.
          if (s.writableLength > MAX_UNREAD_BYTES) s.destroy();
          else s.write(JSON.stringify(reply) + '\n');
        });
      }
    });
  }

  private async answer(line: string): Promise<Reply> {
    let req: unknown;
    try {
      req = JSON.parse(line);
    } catch {
      return { ok: false, error: 'not a JSON line' };
    }
    if (typeof req !== 'object' || req === null || Array.isArray(req) || typeof (req as Request).op !== 'string')
      return { ok: false, error: 'a request is a JSON object with "op"' };
    const r = req as Request;
    if (this.token !== undefined && (typeof r.token !== 'string' || !sameToken(r.token, this.token)))
      return { ok: false, error: 'bad or missing token' };
    try {
      return { ok: true, ...(await this.handle(r)) };
    } catch (e) {
      return { ok: false, error: (e as Error).message };
    }
  }

  async close(): Promise<void> {
    for (const s of this.conns) s.destroy();
    await Promise.all(this.servers.map((sv) => new Promise<void>((r) => sv.close(() => r()))));
    removeSocketFiles(this.unixPaths);
  }
}

/** Opens a connection to the manager at ADDR (tcp://host:port or unix:/path). */
export function connect(address: string): net.Socket {
  if (address.startsWith('unix:')) return net.connect(address.slice(5));
  if (address.startsWith('/')) return net.connect(address);
  const m = /^(?:tcp:\/\/)?(\[[^\]]+\]|[^:/]*):(\d+)$/.exec(address);
  if (!m) throw new Error(`bad manager address ${address} (use tcp://host:port or unix:/path)`);
  return net.connect(Number(m[2]), m[1].replace(/^\[|\]$/g, '') || '127.0.0.1');
}

/** One request, one reply; rejects on a refused connection, a timeout or an error reply. */
export async function request(
  address: string,
  token: string | undefined,
  req: Request,
  timeoutMs = 30_000,
): Promise<Reply> {
  const s = connect(address);
  s.setEncoding('utf8');
  return await new Promise<Reply>((resolve, reject) => {
    let buf = '';
    const done = (e: Error | null, r?: Reply) => {
      s.destroy();
      if (e) reject(e);
      else resolve(r!);
    };
    s.setTimeout(timeoutMs, () => done(new Error(`no answer from the manager at ${address} within ${timeoutMs} ms`)));
    s.on('error', (e) => done(new Error(`cannot reach the manager at ${address}: ${e.message}`)));
    s.on('connect', () => s.write(JSON.stringify({ ...req, token }) + '\n'));
    s.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let r: Reply;
      try {
        r = JSON.parse(buf.slice(0, nl)) as Reply;
      } catch {
        return done(new Error('the manager sent something that is not JSON'));
      }
      if (r.ok !== true) done(new Error(String(r.error ?? 'request failed')));
      else done(null, r);
    });
    s.on('end', () => done(new Error('the manager closed the connection without an answer')));
  });
}
