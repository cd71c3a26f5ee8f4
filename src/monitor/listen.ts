// The monitor's listening sockets: one server per address (TCP, or a Unix socket path whose stale
// socket file is replaced), its actual address once it listens, and the socket files removed on close.
import fs from 'node:fs';
import net from 'node:net';
import { parseListenAddress } from './options.js';

/** Pending connections the kernel may queue (capped by net.core.somaxconn): a job's ranks all
 * connect at once, and Node's default of 511 resets some of them past ~4 000 ranks. */
const LISTEN_BACKLOG = 65535;

export interface Listening {
  server: net.Server;
  /** the actual address (port filled in), e.g. tcp://0.0.0.0:41234 or unix:/path */
  address: string;
  /** the socket file to remove on close, or null (tcp) */
  unixPath: string | null;
}

/**
 * Listens on one address (see parseListenAddress). Each accepted socket goes to `accept` with its
 * name for a Unix socket ("unix:/path"; "" for tcp); errors of the server go to `onError`.
 */
export async function listenOn(
  address: string,
  accept: (socket: net.Socket, unixName: string) => void,
  onError: (e: Error) => void,
): Promise<Listening> {
  const spec = parseListenAddress(address);
  const server = net.createServer((s) => accept(s, spec.kind === 'unix' ? `unix:${spec.path}` : ''));
  server.on('error', (e) => onError(e));
  if (spec.kind === 'unix') {
    removeStaleSocket(spec.path);
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen({ path: spec.path, backlog: LISTEN_BACKLOG }, () => {
        server.off('error', rej);
        res();
      });
    });
    return { server, address: `unix:${spec.path}`, unixPath: spec.path };
  }
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen({ port: spec.port, host: spec.host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', rej);
      res();
    });
  });
  const ad = server.address() as net.AddressInfo;
  const host = ad.family === 'IPv6' ? `[${ad.address}]` : ad.address;
  return { server, address: `tcp://${host}:${ad.port}`, unixPath: null };
}

/** Removes the socket files of closed servers (those already gone are skipped). */
export function removeSocketFiles(paths: readonly string[]): void {
  for (const p of paths) {
    try {
      fs.unlinkSync(p);
    } catch {
      /* gone */
    }
  }
}

function removeStaleSocket(p: string): void {
  try {
    if (fs.statSync(p).isSocket()) fs.unlinkSync(p);
  } catch {
    /* absent */
  }
}
