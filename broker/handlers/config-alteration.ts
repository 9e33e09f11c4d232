// The common path of AlterConfigs and IncrementalAlterConfigs: each resource's change is decided
// inside one controller operation against the latest committed image (so concurrent alterations
// of one resource never lose an update), validated as Kafka's controller validates the resulting
// set, committed as ConfigRecords, and answered once the broker has published the new image (so
// a DescribeConfigs after the answer sees it, and the open logs already use it).
// Invariant: a resource whose validation fails contributes no record; the others still commit.
import { alterConfigs, type ConfigChange } from '../../controller/cluster-control.ts';
import { ConfigResourceType, type MetadataImage } from '../../controller/metadata/image.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import type { BrokerContext } from '../broker-context.ts';
import { resourceConfigs, validateBrokerDynamicConfigs, validateTopicResource } from './config-resources.ts';

export interface ResourceOutcome {
  resourceType: number;
  resourceName: string;
  errorCode: number;
  errorMessage: string | null;
}

export interface PlannedAlteration {
  resourceType: number;
  resourceName: string;
  /** Set when the request was refused before reaching the controller. */
  error?: KafkaError;
  /**
   * The new value of each key the request names (null: remove), from the resource's current
   * dynamic configs; throws KafkaError when the operations themselves are invalid.
   */
  changes?: (current: ReadonlyMap<string, string>) => Map<string, string | null>;
  /** Legacy AlterConfigs: keys not named are removed. */
  replaceAll: boolean;
}

function outcome(p: PlannedAlteration, err: KafkaError | null): ResourceOutcome {
  return { resourceType: p.resourceType, resourceName: p.resourceName, errorCode: err?.errorCode ?? ErrorCode.NONE, errorMessage: err?.message ?? null };
}

function decide(ctx: BrokerContext, image: MetadataImage, p: PlannedAlteration, records: ConfigChange[]): void {
  const current = resourceConfigs(image, p.resourceType, p.resourceName);
  const explicit = p.changes!(current);
  const next = new Map(current);
  for (const [k, v] of explicit) {
    if (v === null) next.delete(k);
    else next.set(k, v);
  }
  const implicit = p.replaceAll ? [...current.keys()].filter((k) => !explicit.has(k)) : [];
  for (const k of implicit) next.delete(k);
  const props = Object.fromEntries(next);
  if (p.resourceType === ConfigResourceType.Topic) {
    validateTopicResource(p.resourceName, props, ctx.config, image);
  } else {
    validateBrokerDynamicConfigs(props, p.resourceName !== '', ctx.config, image);
  }
  const isBroker = p.resourceType === ConfigResourceType.Broker;
  for (const [name, value] of explicit) {
    // Kafka writes broker records even when unchanged, so brokers reload them.
    if (isBroker || (current.get(name) ?? null) !== value) records.push({ resourceType: p.resourceType, resourceName: p.resourceName, name, value });
  }
  for (const name of implicit) records.push({ resourceType: p.resourceType, resourceName: p.resourceName, name, value: null });
}

/** Decides, commits (unless validateOnly) and awaits publication; outcomes in input order. */
export async function alterConfigResources(ctx: BrokerContext, plans: readonly PlannedAlteration[], validateOnly: boolean): Promise<ResourceOutcome[]> {
  const pending = plans.filter((p) => !p.error && p.changes);
  const decided = new Map<PlannedAlteration, ResourceOutcome>();
  if (pending.length > 0) {
    await ctx.controller.run((image) => {
      const records: ConfigChange[] = [];
      for (const p of pending) {
        const mine: ConfigChange[] = [];
        try {
          decide(ctx, image, p, mine);
          records.push(...mine);
          decided.set(p, outcome(p, null));
        } catch (err) {
          if (!(err instanceof KafkaError)) throw err;
          decided.set(p, outcome(p, err));
        }
      }
      return validateOnly ? { records: [], response: undefined } : alterConfigs(records);
    });
    await ctx.metadata.waitFor(ctx.controller.image.offset);
  }
  return plans.map((p) => decided.get(p) ?? outcome(p, p.error ?? null));
}
