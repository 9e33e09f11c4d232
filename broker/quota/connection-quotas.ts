// Connection limits checked when a connection is accepted (Kafka's ConnectionQuotas; KIP-306,
// KIP-402, KIP-612): connections per IP (max.connections.per.ip, with
// max.connections.per.ip.overrides host:count), per listener (listener.name.<l>.max.connections),
// on the whole broker (max.connections; the inter-broker listener, when there are others, is counted
// but never refused by it, as Kafka protects it), and creation rates per listener
// (listener.name.<l>.max.connection.creation.rate), broker-wide (max.connection.creation.rate,
// again sparing the inter-broker listener) and per IP (the connection_creation_rate client quota
// of /ips/<ip>, else /ips/<default>). Rates are measured as client quotas are (quota.window.num
// samples of quota.window.size.seconds). Controller listeners are not limited here: Kafka serves
// them from the controller's own socket server, with its own counts.
// Over a limit the connection is closed right after accept (Kafka holds the acceptor or delays
// the close for rates; what the client sees is the same: no service on that connection). A
// refused connection does not count towards any rate.
import { isIP } from 'node:net';
import type { MetadataImage } from '../../controller/metadata/image.ts';
import type { BrokerConfig } from '../config/broker-config.ts';
import { clientQuotaEntityKey } from '../../controller/metadata/image.ts';
import { CONNECTION_CREATION_RATE, IP } from './client-quota-control.ts';
import { QuotaSensor, type RateConfig } from './sampled-rate.ts';

export interface ConnectionLimits {
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** IP address → limit (max.connections.per.ip.overrides). */
  perIpOverrides: ReadonlyMap<string, number>;
  maxConnectionCreationRate: number;
  /** Per listener: listener.name.<l>.max.connections and .max.connection.creation.rate. */
  listeners: ReadonlyMap<string, { maxConnections?: number; maxConnectionCreationRate?: number }>;
  /** Counted, but never refused by the broker-wide limits (Kafka's protected listener). */
  interBrokerListener: string | null;
  /** Listeners these limits do not apply to (controller listeners). */
  exempt?: ReadonlySet<string>;
  rate: RateConfig;
}

/** The reason a connection is refused; also the metric's label. */
export type RefusalReason = 'max.connections.per.ip' | 'max.connections' | 'max.connection.creation.rate' | 'connection_creation_rate';

export interface Refusal {
  reason: RefusalReason;
  message: string;
}

/** An accepted connection's hold on its counts; release once when it closes. */
export interface ConnectionSlot {
  release(): void;
}

/** The address as counted: IPv4-mapped IPv6 addresses are their IPv4 address. */
export function normalizeIp(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** max.connections.per.ip.overrides: `host:count,...`; localhost stands for the loopback addresses. */
export function parsePerIpOverrides(raw: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of raw.split(',').map((x) => x.trim()).filter((x) => x !== '')) {
    const i = item.lastIndexOf(':');
    const host = i > 0 ? item.slice(0, i).trim() : '';
    const count = i > 0 ? Number(item.slice(i + 1).trim()) : Number.NaN;
    if (host === '' || !Number.isInteger(count) || count < 0) throw new Error(`Invalid max.connections.per.ip.overrides entry "${item}": expected host:count`);
    const h = host.replace(/^\[(.*)\]$/, '$1');
    if (h === 'localhost') {
      out.set('127.0.0.1', count);
      out.set('::1', count);
    } else out.set(h, count);
  }
  return out;
}

const INT_MAX = 2 ** 31 - 1;

/** The limits a broker's configuration sets (read at start). */
export function connectionLimits(config: BrokerConfig): ConnectionLimits {
  const listeners = new Map<string, { maxConnections?: number; maxConnectionCreationRate?: number }>();
  const controllerNames = new Set(config.controllerListenerNames);
  const clientListeners = config.listeners.filter((l) => !controllerNames.has(l.name));
  for (const l of clientListeners) {
    const prefix = `listener.name.${l.name.toLowerCase()}.`;
    const int = (key: string): number | undefined => {
      const raw = config.originals[prefix + key];
      return raw === undefined ? undefined : Number(raw.trim());
    };
    const maxConnections = int('max.connections');
    const maxConnectionCreationRate = int('max.connection.creation.rate');
    if (maxConnections !== undefined || maxConnectionCreationRate !== undefined) {
      listeners.set(l.name, { ...(maxConnections !== undefined && { maxConnections }), ...(maxConnectionCreationRate !== undefined && maxConnectionCreationRate < INT_MAX && { maxConnectionCreationRate }) });
    }
  }
  return {
    maxConnections: config.get('max.connections'),
    maxConnectionsPerIp: config.get('max.connections.per.ip'),
    perIpOverrides: parsePerIpOverrides(config.get('max.connections.per.ip.overrides')),
    maxConnectionCreationRate: config.get('max.connection.creation.rate'),
    listeners,
    // Protected only when other listeners could take all the connections (as Kafka's protectedListener).
    interBrokerListener: config.isBroker && clientListeners.length > 1 ? config.interBrokerListenerName : null,
    exempt: controllerNames,
    rate: { samples: config.get('quota.window.num'), windowMs: config.get('quota.window.size.seconds') * 1000 },
  };
}

const MAX_IDLE_IP_RATES = 10_000;

export class ConnectionQuotas {
  private readonly perIp = new Map<string, number>();
  private readonly perListener = new Map<string, number>();
  private brokerCount = 0;
  private readonly listenerRates = new Map<string, QuotaSensor>();
  private readonly brokerRate: QuotaSensor | null;
  private readonly ipRates = new Map<string, QuotaSensor>();

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly image: () => MetadataImage,
    private readonly now: () => number = Date.now,
  ) {
    this.brokerRate = limits.maxConnectionCreationRate < INT_MAX ? new QuotaSensor(limits.rate, limits.maxConnectionCreationRate) : null;
  }

  /** Counts the connection in, or says why it is refused (and counts nothing). */
  accept(listener: string, address: string | undefined): ConnectionSlot | Refusal {
    if (this.limits.exempt?.has(listener)) return { release: () => undefined };
    const ip = normalizeIp(address);
    const ipLimit = this.limits.perIpOverrides.get(ip) ?? this.limits.maxConnectionsPerIp;
    const ipCount = this.perIp.get(ip) ?? 0;
    if (ipCount >= ipLimit) return { reason: 'max.connections.per.ip', message: `address ${ip} already has the configured maximum of ${ipLimit} connections` };
    const l = this.limits.listeners.get(listener);
    const listenerCount = this.perListener.get(listener) ?? 0;
    if (l?.maxConnections !== undefined && listenerCount >= l.maxConnections) {
      return { reason: 'max.connections', message: `listener ${listener} already has the configured maximum of ${l.maxConnections} connections` };
    }
    const protectedListener = listener === this.limits.interBrokerListener;
    if (!protectedListener && this.brokerCount >= this.limits.maxConnections) {
      return { reason: 'max.connections', message: `the broker already has the configured maximum of ${this.limits.maxConnections} connections` };
    }
    const nowMs = this.now();
    const recorded: QuotaSensor[] = [];
    const exceeded = (sensor: QuotaSensor | null): boolean => {
      if (!sensor) return false;
      recorded.push(sensor);
      return sensor.recordAndGetThrottleMs(1, nowMs) > 0;
    };
    const refuse = (r: Refusal): Refusal => {
      for (const s of recorded) s.unrecord(1, nowMs);
      return r;
    };
    if (exceeded(this.listenerRate(listener))) return refuse({ reason: 'max.connection.creation.rate', message: `listener ${listener} is over its max.connection.creation.rate of ${l!.maxConnectionCreationRate}/s` });
    if (!protectedListener && exceeded(this.brokerRate)) return refuse({ reason: 'max.connection.creation.rate', message: `the broker is over its max.connection.creation.rate of ${this.limits.maxConnectionCreationRate}/s` });
    const ipRate = this.ipRate(ip);
    if (exceeded(ipRate)) return refuse({ reason: 'connection_creation_rate', message: `address ${ip} is over its connection_creation_rate quota of ${ipRate!.bound}/s` });
    this.perIp.set(ip, ipCount + 1);
    this.perListener.set(listener, listenerCount + 1);
    this.brokerCount++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const n = (this.perIp.get(ip) ?? 1) - 1;
        if (n <= 0) this.perIp.delete(ip);
        else this.perIp.set(ip, n);
        this.perListener.set(listener, (this.perListener.get(listener) ?? 1) - 1);
        this.brokerCount--;
      },
    };
  }

  /** Open connections counted from an address (for tests and metrics). */
  connectionsFrom(address: string): number {
    return this.perIp.get(normalizeIp(address)) ?? 0;
  }

  private listenerRate(listener: string): QuotaSensor | null {
    const rate = this.limits.listeners.get(listener)?.maxConnectionCreationRate;
    if (rate === undefined) return null;
    let s = this.listenerRates.get(listener);
    if (!s) this.listenerRates.set(listener, (s = new QuotaSensor(this.limits.rate, rate)));
    return s;
  }

  private ipRate(ip: string): QuotaSensor | null {
    const quotas = this.image().clientQuotas;
    if (!quotas?.size) {
      this.ipRates.clear();
      return null;
    }
    const bound = quotas.get(clientQuotaEntityKey([{ entityType: IP, entityName: ip }]))?.values.get(CONNECTION_CREATION_RATE) ?? quotas.get(clientQuotaEntityKey([{ entityType: IP, entityName: null }]))?.values.get(CONNECTION_CREATION_RATE);
    if (bound === undefined) {
      this.ipRates.delete(ip);
      return null;
    }
    let s = this.ipRates.get(ip);
    if (!s) {
      // Many addresses come and go under a default quota: forget those whose rate has fallen to 0.
      if (this.ipRates.size >= MAX_IDLE_IP_RATES) for (const [k, r] of this.ipRates) if (r.rate.measure(this.now()) === 0) this.ipRates.delete(k);
      this.ipRates.set(ip, (s = new QuotaSensor(this.limits.rate, bound)));
    }
    s.bound = bound;
    return s;
  }
}
