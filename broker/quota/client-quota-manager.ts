// Client quotas of one kind (produce bytes, fetch bytes, request time) for the (user, client-id)
// pairs that connect to this broker, as Kafka's ClientQuotaManager with its default callback.
// Resolution walks Kafka's eight levels, most specific first, and takes the first entity that
// sets this quota's key:
//   /users/<u>/clients/<c>, /users/<u>/clients/<default>, /users/<u>,
//   /users/<default>/clients/<c>, /users/<default>/clients/<default>, /users/<default>,
//   /clients/<c>, /clients/<default>.
// The level found decides who shares a rate (the sensor's tags): a user-level quota is shared by
// all the user's clients, a client-level one by the client id across users, and a default applies
// to each user or client id on its own, never to all of them together.
// Resolutions are cached per image (quota records replace the image's quota map); a pair without
// any quota records nothing. Sensors idle for an hour are dropped, as Kafka expires them.
import type { ClientQuotaImage, MetadataImage } from '../../controller/metadata/image.ts';
import { clientQuotaEntityKey } from '../../controller/metadata/image.ts';
import { CLIENT_ID, USER } from './client-quota-control.ts';
import { QuotaSensor, type RateConfig } from './sampled-rate.ts';

export interface ResolvedQuota {
  bound: number;
  /** Who shares this rate: the user ('' when not part of it) and client id ('' likewise). */
  user: string;
  clientId: string;
  /** The entity the quota came from, as kafka-configs names it (e.g. /users/alice/clients/<default>). */
  path: string;
}

type Quotas = ReadonlyMap<string, ClientQuotaImage> | undefined;

const entity = (user: string | null | undefined, clientId: string | null | undefined): string => {
  const parts = [];
  if (clientId !== undefined) parts.push({ entityType: CLIENT_ID, entityName: clientId });
  if (user !== undefined) parts.push({ entityType: USER, entityName: user });
  return clientQuotaEntityKey(parts);
};

/** The quota of `key` that applies to (user, clientId), or null when none is set at any level. */
export function resolveClientQuota(quotas: Quotas, key: string, user: string, clientId: string): ResolvedQuota | null {
  if (!quotas || quotas.size === 0) return null;
  const d = (name: string | null) => name ?? '<default>';
  // [user part, client part, tags user, tags client]; undefined = the entity has no such part.
  const levels: [string | null | undefined, string | null | undefined, string, string][] = [
    [user, clientId, user, clientId],
    [user, null, user, clientId],
    [user, undefined, user, ''],
    [null, clientId, user, clientId],
    [null, null, user, clientId],
    [null, undefined, user, ''],
    [undefined, clientId, '', clientId],
    [undefined, null, '', clientId],
  ];
  for (const [u, c, tagUser, tagClient] of levels) {
    const value = quotas.get(entity(u, c))?.values.get(key);
    if (value === undefined) continue;
    const path = [u !== undefined ? `/users/${d(u)}` : '', c !== undefined ? `/clients/${d(c)}` : ''].join('');
    return { bound: value, user: tagUser, clientId: tagClient, path };
  }
  return null;
}

/** The user a principal stands for in quota entities: `User:alice` is alice. */
export function quotaUser(principal: string): string {
  const i = principal.indexOf(':');
  return i >= 0 ? principal.slice(i + 1) : principal;
}

const IDLE_SENSOR_MS = 60 * 60 * 1000;
const SWEEP_EVERY = 1024;

interface Entry {
  sensor: QuotaSensor;
  lastUsedMs: number;
}

export class ClientQuotaManager {
  private readonly sensors = new Map<string, Entry>();
  private resolved = new Map<string, ResolvedQuota | null>();
  private resolvedFor: Quotas | null = null;
  private calls = 0;

  /** `key` is the quota key this manager enforces (producer_byte_rate, consumer_byte_rate, request_percentage). */
  constructor(
    readonly key: string,
    private readonly config: RateConfig,
    private readonly image: () => MetadataImage,
  ) {}

  /** The quota that applies, or null (unlimited). */
  quota(user: string, clientId: string): ResolvedQuota | null {
    const quotas = this.image().clientQuotas;
    if (quotas !== this.resolvedFor) {
      this.resolvedFor = quotas;
      this.resolved = new Map();
    }
    const k = `${user}\u0000${clientId}`;
    let q = this.resolved.get(k);
    if (q === undefined) {
      q = resolveClientQuota(quotas, this.key, user, clientId);
      this.resolved.set(k, q);
    }
    return q;
  }

  /** Records `value` for the pair and returns the throttle time it earns (0 when unlimited or within the quota). */
  recordAndGetThrottleMs(user: string, clientId: string, value: number, nowMs: number): number {
    const sensor = this.sensor(user, clientId, nowMs);
    return sensor ? sensor.recordAndGetThrottleMs(value, nowMs) : 0;
  }

  unrecord(user: string, clientId: string, value: number, nowMs: number): void {
    this.sensor(user, clientId, nowMs)?.unrecord(value, nowMs);
  }

  /** The sensor the pair records into, null when no quota applies. */
  sensor(user: string, clientId: string, nowMs: number): QuotaSensor | null {
    const q = this.quota(user, clientId);
    if (q === null) return null;
    if (++this.calls % SWEEP_EVERY === 0) this.sweep(nowMs);
    const tag = `${q.user}\u0000${q.clientId}`;
    let e = this.sensors.get(tag);
    if (!e) {
      e = { sensor: new QuotaSensor(this.config, q.bound), lastUsedMs: nowMs };
      this.sensors.set(tag, e);
    }
    e.sensor.bound = q.bound;
    e.lastUsedMs = nowMs;
    return e.sensor;
  }

  private sweep(nowMs: number): void {
    for (const [tag, e] of this.sensors) if (nowMs - e.lastUsedMs > IDLE_SENSOR_MS) this.sensors.delete(tag);
  }
}
