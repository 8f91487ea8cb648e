/**
 * Dashboard sessions: the admin token is exchanged once for a random session id (HttpOnly, SameSite=Strict cookie)
 * with its own CSRF token. Sessions live in memory: a restart logs everyone out, which is fine for a few operators.
 */
import crypto from 'node:crypto';

export const SESSION_COOKIE = 'moe_admin';
/** A session ends this long after login. */
export const SESSION_TTL_MS = 12 * 3_600_000;
/** Oldest sessions are dropped beyond this, so repeated logins cannot grow memory. */
const MAX_SESSIONS = 1_000;

export interface AdminSession {
  id: string;
  csrfToken: string;
  /** Who did an action, in logs and gate versions: a short hash of the session id (never the token). */
  who: string;
  createdAt: number;
  ip: string;
}

function digest(value: string): Buffer {
  return crypto.createHash('sha256').update(value).digest();
}

/** Constant-time equality of two strings (hashed first, so lengths leak nothing either). */
export function sameSecret(a: string, b: string): boolean {
  return crypto.timingSafeEqual(digest(a), digest(b));
}

export class AdminSessions {
  private readonly sessions = new Map<string, AdminSession>();

  constructor(private readonly token: string, private readonly now: () => number = Date.now) {}

  /** True when `candidate` is the admin token. */
  checkToken(candidate: string): boolean {
    return sameSecret(candidate, this.token);
  }

  create(ip: string): AdminSession {
    const id = crypto.randomBytes(32).toString('base64url');
    const session: AdminSession = {
      id,
      csrfToken: crypto.randomBytes(32).toString('base64url'),
      who: `admin-session:${digest(id).toString('hex').slice(0, 8)}`,
      createdAt: this.now(),
      ip,
    };
    this.sessions.set(id, session);
    if (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value as string);
    return session;
  }

  /** The live session with this id, or null (unknown or expired). */
  get(id: string | undefined): AdminSession | null {
    if (!id) return null;
    const session = this.sessions.get(id);
    if (!session) return null;
    if (this.now() - session.createdAt > SESSION_TTL_MS) {
      this.sessions.delete(id);
      return null;
    }
    return session;
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  /** `Authorization: Bearer <ADMIN_TOKEN>` (API clients and scripts). */
  checkBearer(header: string | undefined): boolean {
    const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
    return m !== null && this.checkToken(m[1]!.trim());
  }
}

/** The value of one cookie from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export function sessionCookie(id: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_MS / 1000}${secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0`;
}

/** A short keyed hash of a user id: stable for one ADMIN_TOKEN, and not reversible by trying every id without it. */
export function userHash(key: string, userId: string): string {
  return crypto.createHmac('sha256', key).update(userId).digest('hex').slice(0, 10);
}
