// Client of wanemu's control socket: one command per line, one JSON object per line back.
import net from 'node:net';

export interface WanemuCounters {
  bytes: number;
  packets: number;
  dropBytes: number;
  dropPackets: number;
}

export interface WanemuLink extends WanemuCounters {
  from: string;
  to: string;
  latencyUs?: number;
  bandwidthBps?: number;
  queueBytes?: number;
  effectiveQueueBytes?: number | null;
  inflightBytes?: number;
  inflightPackets?: number;
  maxBacklogBytes?: number;
}

export interface WanemuNode {
  name: string;
  site: string;
  ip: string;
  prefix: number;
  netns: string;
  ifname: string;
  mtu: number;
  downMsLeft: number;
  heldBytes: number;
  migrations: number;
  tx: WanemuCounters;
  rx: WanemuCounters;
}

export interface WanemuStatus {
  ok: true;
  pid: number;
  version: string;
  uptimeMs: number;
  nodes: WanemuNode[];
  links: WanemuLink[];
  local: { site: string; bytes: number; packets: number }[];
  unroutable: WanemuCounters;
}

export interface WanemuCountersReply {
  ok: true;
  links: WanemuLink[];
  local: { site: string; bytes: number; packets: number }[];
  unroutable: WanemuCounters;
}

export class WanemuError extends Error {}

/** Sends commands over one connection and returns the parsed replies; throws on !ok. */
export async function wanemuCommand<T = Record<string, unknown>>(
  socketPath: string,
  commands: string[],
  timeoutMs = 5000,
): Promise<T[]> {
  return await new Promise<T[]>((resolve, reject) => {
    const sock = net.createConnection(socketPath);
    const replies: T[] = [];
    let buf = '';
    let done = false;
    const finish = (err: Error | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(replies);
    };
    const timer = setTimeout(
      () => finish(new WanemuError(`wanemu at ${socketPath} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(commands.map((c) => `${c}\n`).join('')));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let obj: { ok?: boolean; error?: string };
        try {
          obj = JSON.parse(line) as { ok?: boolean; error?: string };
        } catch {
          finish(new WanemuError(`wanemu sent a malformed reply: ${line.slice(0, 200)}`));
          return;
        }
        if (!obj.ok) {
          const cmd = commands[replies.length] ?? '';
          finish(new WanemuError(`wanemu: ${obj.error ?? 'error'} (command: ${cmd})`));
          return;
        }
        replies.push(obj as T);
        if (replies.length === commands.length) finish(null);
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      finish(
        new WanemuError(
          e.code === 'ENOENT' || e.code === 'ECONNREFUSED'
            ? `wanemu is not running (no control socket at ${socketPath})`
            : `wanemu control socket ${socketPath}: ${e.message}`,
        ),
      );
    });
    sock.on('close', () => {
      if (!done) finish(new WanemuError('wanemu closed the control connection'));
    });
  });
}

export async function wanemuOne<T = Record<string, unknown>>(socketPath: string, command: string): Promise<T> {
  const [r] = await wanemuCommand<T>(socketPath, [command]);
  return r as T;
}
