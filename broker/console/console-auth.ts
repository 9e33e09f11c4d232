// Console login. When any of the node's broker listeners uses SASL, the console requires the
// same credentials a Kafka client would give: a user and password checked against that
// listener's PLAIN users (its PlainLoginModule JAAS options) or its SCRAM credentials (from the
// metadata image, so users added with AlterUserScramCredentials can log in at once), for the
// mechanisms the listener enables. A successful login gets a random session id in an HttpOnly,
// SameSite=Strict cookie; sessions live in memory for SESSION_MS and end at logout or restart.
// Without SASL listeners the console is open and every call runs as User:ANONYMOUS.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { BrokerContext } from '../broker-context.ts';
import { brokerListenerSecurity } from '../security/broker-security.ts';
import { ANONYMOUS } from '../security/listener-security.ts';
import type { SaslListenerConfig } from '../security/sasl-session.ts';
import { clientKey, saltedPassword, scramMechanism } from '../security/scram.ts';

export const SESSION_COOKIE = 'samsa_console';
const SESSION_MS = 8 * 60 * 60 * 1000;

export interface LoginOutcome {
  user: string;
  mechanism: string;
}

export class ConsoleAuth {
  private readonly sessions = new Map<string, { user: string; expiresAt: number }>();
  /** The SASL settings of each SASL broker listener; empty when the console is open. */
  private readonly saslListeners: { name: string; sasl: () => SaslListenerConfig | null }[];

  constructor(private readonly ctx: BrokerContext) {
    const controllers = new Set(ctx.config.controllerListenerNames);
    this.saslListeners = ctx.config.listeners
      .filter((l) => !controllers.has(l.name) && (l.securityProtocol === 'SASL_PLAINTEXT' || l.securityProtocol === 'SASL_SSL'))
      // Built on use: SCRAM credentials are read from the image at each check anyway, and the
      // JAAS settings may carry dynamic overrides.
      .map((l) => ({ name: l.name, sasl: () => brokerListenerSecurity(ctx.config, l, ctx.metadata)?.sasl ?? null }));
  }

  get required(): boolean {
    return this.saslListeners.length > 0;
  }

  /** The principal of a request: its session's user, ANONYMOUS when open, null when it must log in. */
  principal(req: IncomingMessage): string | null {
    if (!this.required) return ANONYMOUS;
    const id = cookie(req, SESSION_COOKIE);
    const s = id === undefined ? undefined : this.sessions.get(id);
    if (!s) return null;
    if (s.expiresAt <= this.ctx.now()) {
      this.sessions.delete(id!);
      return null;
    }
    return `User:${s.user}`;
  }

  /** Checks the credentials against every SASL listener; returns the session id, or null when refused. */
  login(user: string, password: string): { session: string; outcome: LoginOutcome } | null {
    if (user === '' || password === '') return null;
    const outcome = this.check(user, password);
    if (!outcome) return null;
    const now = this.ctx.now();
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(id);
    const session = randomBytes(24).toString('base64url');
    this.sessions.set(session, { user, expiresAt: now + SESSION_MS });
    return { session, outcome };
  }

  logout(req: IncomingMessage): void {
    const id = cookie(req, SESSION_COOKIE);
    if (id !== undefined) this.sessions.delete(id);
  }

  private check(user: string, password: string): LoginOutcome | null {
    for (const l of this.saslListeners) {
      const sasl = l.sasl();
      if (!sasl) continue;
      if (sasl.mechanisms.includes('PLAIN') && sasl.plainUsers) {
        const expected = sasl.plainUsers.get(user);
        if (expected !== undefined && sameBytes(Buffer.from(expected, 'utf8'), Buffer.from(password, 'utf8'))) return { user, mechanism: 'PLAIN' };
      }
      for (const name of sasl.mechanisms) {
        const m = scramMechanism(name);
        const cred = m && sasl.scramCredential(name, user);
        if (!m || !cred) continue;
        // SCRAM keeps only StoredKey = H(HMAC(SaltedPassword, "Client Key")): derive and compare.
        const salted = saltedPassword(m, password, cred.salt, cred.iterations);
        const stored = createHash(m.hash).update(clientKey(m, salted)).digest();
        if (sameBytes(stored, cred.storedKey)) return { user, mechanism: name };
      }
    }
    return null;
  }
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

export function sessionCookie(session: string, maxAgeMs = SESSION_MS): string {
  return `${SESSION_COOKIE}=${session}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(maxAgeMs / 1000)}`;
}
