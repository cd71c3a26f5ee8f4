// Where the dashboard listens (--http ADDR) and whether that address is this host's loopback, the
// one place it may serve without a token.
import net from 'node:net';

export interface HttpAddress {
  host: string;
  port: number;
}

export class HttpAddressError extends Error {}

/** "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:8080", ":8080" or "8080" (loopback). Port 0: any free port. */
export function parseHttpAddress(text: string): HttpAddress {
  const bad = (why: string) => new HttpAddressError(`--http ${JSON.stringify(text)}: ${why}`);
  const v6 = /^\[([^\]]*)\]:(\d{1,5})$/.exec(text);
  const v4 = /^([^:[\]]*):(\d{1,5})$/.exec(text);
  let host: string, port: string;
  if (v6) {
    [, host, port] = v6;
    if (!net.isIPv6(host)) throw bad(`${host} is not an IPv6 address`);
  } else if (v4) {
    host = v4[1] || '127.0.0.1';
    port = v4[2];
  } else if (/^\d{1,5}$/.test(text)) {
    host = '127.0.0.1';
    port = text;
  } else throw bad('expected HOST:PORT, [IPv6]:PORT or PORT');
  if (Number(port) > 65535) throw bad(`port ${port} is out of range`);
  return { host, port: Number(port) };
}

/** Whether a host name or address is this host's loopback (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  return mapped !== null && mapped[1].startsWith('127.');
}

/** The URL a browser on this host uses to reach `addr` (listening on port `port`). */
export function dashboardUrl(host: string, port: number): string {
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${net.isIPv6(shown) ? `[${shown}]` : shown}:${port}/`;
}
