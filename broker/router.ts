// The handler registry of one listener: which API keys and versions it serves. ApiVersions
// answers from this table, so what is advertised is exactly what is implemented.
import { API_SPECS, type ApiKey, apiSpec } from '../protocol/generated/api-table.ts';
import type { ApiHandler } from './handlers/api-handler.ts';

export interface VersionRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

export class Router {
  private readonly handlers = new Map<number, { handler: ApiHandler; min: number; max: number }>();
  private readonly unstable: boolean;

  /** `unstableApiVersions` mirrors unstable.api.versions.enable: serve versions Kafka marks unstable. */
  constructor(unstableApiVersions = false) {
    this.unstable = unstableApiVersions;
  }

  register<K extends ApiKey>(handler: ApiHandler<K>): this {
    const spec = API_SPECS[handler.apiKey];
    const top = this.unstable ? spec.maxVersion : spec.maxStableVersion;
    const min = Math.max(handler.minVersion ?? spec.minVersion, spec.minVersion);
    const max = Math.min(handler.maxVersion ?? top, top);
    if (min > max) throw new Error(`${spec.name} handler serves no version`);
    this.handlers.set(handler.apiKey, { handler: handler as unknown as ApiHandler, min, max });
    return this;
  }

  handler(apiKey: number): ApiHandler | undefined {
    return this.handlers.get(apiKey)?.handler;
  }

  supports(apiKey: number, version: number): boolean {
    const h = this.handlers.get(apiKey);
    return h !== undefined && version >= h.min && version <= h.max;
  }

  /** The advertised ranges, in API key order. */
  versions(): VersionRange[] {
    return [...this.handlers.entries()].sort((a, b) => a[0] - b[0]).map(([apiKey, h]) => ({ apiKey, minVersion: h.min, maxVersion: h.max }));
  }

  range(apiKey: number): VersionRange | undefined {
    const h = this.handlers.get(apiKey);
    return h && { apiKey, minVersion: h.min, maxVersion: h.max };
  }

  static apiName(apiKey: number): string {
    return apiSpec(apiKey)?.name ?? `unknown(${apiKey})`;
  }
}
