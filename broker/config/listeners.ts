// Listener URIs (`NAME://host:port`), listener.security.protocol.map, controller.quorum.voters
// (`id@host:port`) and controller.quorum.bootstrap.servers (`host:port`), parsed as Kafka parses
// them. Listener names are upper-cased (Kafka's ListenerName.normalised); an empty host means all
// interfaces and is kept as null. Each parser throws ConfigValueError naming the key.
import { ConfigValueError, invalidValueMessage } from './config-def.ts';

export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
const PROTOCOLS: readonly SecurityProtocol[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];

export interface Listener {
  /** Upper-cased listener name, e.g. PLAINTEXT, CONTROLLER, INTERNAL. */
  name: string;
  /** null binds every interface (Kafka's empty host). */
  host: string | null;
  port: number;
  securityProtocol: SecurityProtocol;
}

export interface HostPort {
  host: string;
  port: number;
}

export interface QuorumVoter extends HostPort {
  id: number;
}

const splitCsv = (s: string): string[] => (s.trim() === '' ? [] : s.trim().split(/\s*,\s*/).filter((x) => x !== ''));

function parsePort(key: string, whole: string, s: string): number {
  const port = Number(s);
  if (!/^-?\d+$/.test(s) || port < 0 || port > 65535) {
    throw new ConfigValueError(key, invalidValueMessage(key, whole, `port ${s} is not in 0..65535`));
  }
  return port;
}

export function parseSecurityProtocolMap(key: string, raw: string): Map<string, SecurityProtocol> {
  const map = new Map<string, SecurityProtocol>();
  for (const entry of splitCsv(raw)) {
    const m = /^([^:]+):([^:]+)$/.exec(entry);
    if (!m) throw new ConfigValueError(key, invalidValueMessage(key, raw, `entry ${entry} is not of the form LISTENER_NAME:SECURITY_PROTOCOL`));
    const protocol = m[2]!.trim().toUpperCase();
    if (!PROTOCOLS.includes(protocol as SecurityProtocol)) {
      throw new ConfigValueError(key, invalidValueMessage(key, raw, `unknown security protocol ${m[2]} (one of ${PROTOCOLS.join(', ')})`));
    }
    map.set(m[1]!.trim().toUpperCase(), protocol as SecurityProtocol);
  }
  return map;
}

/** Parses a listeners-style list; each name must map to a protocol in `protocols`. */
export function parseListeners(key: string, raw: string, protocols: ReadonlyMap<string, SecurityProtocol>): Listener[] {
  const out: Listener[] = [];
  for (const uri of splitCsv(raw)) {
    const m = /^(.*):\/\/\[?([0-9a-zA-Z\-%._:]*)\]?:(-?[0-9]+)$/.exec(uri);
    if (!m || m[1] === '') throw new ConfigValueError(key, invalidValueMessage(key, raw, `Unable to parse ${uri} to a broker endpoint`));
    const name = m[1]!.toUpperCase();
    const securityProtocol = protocols.get(name);
    if (securityProtocol === undefined) {
      throw new ConfigValueError(key, invalidValueMessage(key, raw, `No security protocol defined for listener ${name}`));
    }
    out.push({ name, host: m[2] === '' ? null : m[2]!, port: parsePort(key, raw, m[3]!), securityProtocol });
  }
  const names = new Set<string>();
  const ports = new Set<number>();
  for (const l of out) {
    if (names.has(l.name)) throw new ConfigValueError(key, invalidValueMessage(key, raw, 'Each listener must have a different name'));
    names.add(l.name);
    // Port 0 asks the OS for an ephemeral port, so it may repeat.
    if (l.port !== 0 && ports.has(l.port)) throw new ConfigValueError(key, invalidValueMessage(key, raw, 'Each listener must have a different port'));
    ports.add(l.port);
  }
  return out;
}

function parseHostPort(key: string, raw: string, s: string): HostPort {
  const m = /^\[?([^\]\s]+?)\]?:(\d+)$/.exec(s);
  if (!m) throw new ConfigValueError(key, invalidValueMessage(key, raw, `${s} is not of the form host:port`));
  return { host: m[1]!, port: parsePort(key, raw, m[2]!) };
}

export function parseQuorumVoters(key: string, raw: readonly string[]): QuorumVoter[] {
  const whole = raw.join(',');
  const voters = raw.map((entry) => {
    const at = entry.indexOf('@');
    const id = Number(entry.slice(0, at));
    if (at <= 0 || !/^\d+$/.test(entry.slice(0, at)) || id > 2147483647) {
      throw new ConfigValueError(key, invalidValueMessage(key, whole, `${entry} is not of the form {id}@{host}:{port}`));
    }
    return { id, ...parseHostPort(key, whole, entry.slice(at + 1)) };
  });
  const ids = new Set(voters.map((v) => v.id));
  if (ids.size !== voters.length) throw new ConfigValueError(key, invalidValueMessage(key, whole, 'voter ids must be unique'));
  return voters;
}

export function parseBootstrapServers(key: string, raw: readonly string[]): HostPort[] {
  return raw.map((s) => parseHostPort(key, raw.join(','), s));
}

export const listenerNames = (raw: string | null): string[] => splitCsv(raw ?? '').map((n) => n.toUpperCase());

export function formatListener(l: Listener): string {
  const host = l.host === null ? '' : l.host.includes(':') ? `[${l.host}]` : l.host;
  return `${l.name}://${host}:${l.port}`;
}

/** A per-listener override key: `listener.name.<listener>.[<mechanism>.]<config>`. */
export interface ListenerOverrideKey {
  /** Upper-cased listener name. */
  listener: string;
  /** Upper-cased SASL mechanism for `listener.name.<l>.<mechanism>.sasl.*` keys, else null. */
  mechanism: string | null;
  config: string;
}

/** Splits a `listener.name.` key; null when `key` is not of that form. */
export function parseListenerOverrideKey(key: string): ListenerOverrideKey | null {
  const m = /^listener\.name\.([^.]+)\.(.+)$/.exec(key);
  if (!m) return null;
  const rest = m[2]!;
  // Mechanism-scoped SASL settings (e.g. scram-sha-256.sasl.jaas.config) name the mechanism first.
  const mech = /^([a-zA-Z0-9_-]+)\.(sasl\..+)$/.exec(rest);
  if (mech && mech[1] !== 'sasl' && mech[1] !== 'ssl') return { listener: m[1]!.toUpperCase(), mechanism: mech[1]!.toUpperCase(), config: mech[2]! };
  return { listener: m[1]!.toUpperCase(), mechanism: null, config: rest };
}

/** The override key of `config` for `listener` (and a SASL mechanism), as Kafka spells it. */
export function listenerOverrideKey(listener: string, config: string, mechanism?: string): string {
  return `listener.name.${listener.toLowerCase()}.${mechanism ? `${mechanism.toLowerCase()}.` : ''}${config}`;
}
