// Who may see the dashboard: on loopback anyone on this host; on any other address only a client
// that presents the monitor's token, as `Authorization: Bearer TOKEN` (Prometheus, curl) or as the
// session cookie that /login?token=TOKEN sets once (browsers). The cookie holds an HMAC of the
// token, never the token itself.
import crypto from 'node:crypto';

export const SESSION_COOKIE = 'sitempi_session';

const digest = (s: string) => crypto.createHash('sha256').update(s).digest();
/** Constant-time equality (of the digests: lengths need not match). */
const same = (a: string, b: string) => crypto.timingSafeEqual(digest(a), digest(b));

export class DashboardAuth {
  private readonly session: string | null;

  /** token: null serves everyone (only allowed on loopback; server.ts checks). */
  constructor(private readonly token: string | null) {
    this.session = token ? crypto.createHmac('sha256', token).update('sitempi dashboard session').digest('hex') : null;
  }

  get required(): boolean {
    return this.token !== null;
  }

  /** Whether a request with these headers may see the dashboard and its data. */
  allows(headers: { authorization?: string; cookie?: string }): boolean {
    if (this.token === null || this.session === null) return true;
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
    if (bearer && same(bearer[1], this.token)) return true;
    const cookie = cookieValue(headers.cookie ?? '', SESSION_COOKIE);
    return cookie !== null && same(cookie, this.session);
  }

  /** The Set-Cookie value that logs a browser in, when `given` is the token (else null). */
  loginCookie(given: string): string | null {
    if (this.token === null || this.session === null || !same(given, this.token)) return null;
    return `${SESSION_COOKIE}=${this.session}; HttpOnly; SameSite=Strict; Path=/`;
  }
}

/** The value of cookie `name` in a Cookie header (null when absent). */
export function cookieValue(header: string, name: string): string | null {
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}
