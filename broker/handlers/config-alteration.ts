// The common path of AlterConfigs and IncrementalAlterConfigs: each resource's change is decided
// inside one controller operation against the latest committed image (so concurrent alterations
// of one resource never lose an update), validated as Kafka's controller validates the resulting
// set, committed as ConfigRecords, and answered once the broker has published the new image (so
// a DescribeConfigs after the answer sees it, and the open logs already use it).
// Invariant: a resource whose validation fails contributes no record; the others still commit.
// On a node that is not the active controller, each resource's change is decided against this
// node's image and sent to the active controller as explicit SET and DELETE operations of an
// IncrementalAlterConfigs request, where it is validated and committed again.
import { alterConfigs, type ConfigChange } from '../../controller/cluster-control.ts';
import { ConfigResourceType, type MetadataImage } from '../../controller/metadata/image.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { BrokerContext } from '../broker-context.ts';
import { duplicates, resourceConfigs, validateBrokerDynamicConfigs, validateTopicResource } from './config-resources.ts';

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
  if (pending.length > 0 && !ctx.controller.isActive) {
    await forwardAlterations(ctx, pending, validateOnly, decided);
  } else if (pending.length > 0) {
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

const SET = 0;
const DELETE = 1;

/** Decides here, commits through the active controller, and waits to see the change published. */
async function forwardAlterations(ctx: BrokerContext, pending: readonly PlannedAlteration[], validateOnly: boolean, decided: Map<PlannedAlteration, ResourceOutcome>): Promise<void> {
  const image = ctx.metadata.image;
  const sent: { plan: PlannedAlteration; changes: ConfigChange[] }[] = [];
  for (const p of pending) {
    const mine: ConfigChange[] = [];
    try {
      decide(ctx, image, p, mine);
      sent.push({ plan: p, changes: mine });
    } catch (err) {
      if (!(err instanceof KafkaError)) throw err;
      decided.set(p, outcome(p, err));
    }
  }
  if (sent.length === 0) return;
  const request = {
    validateOnly,
    resources: sent.map(({ plan, changes }) => ({
      resourceType: plan.resourceType,
      resourceName: plan.resourceName,
      configs: changes.map((c) => ({ name: c.name, configOperation: c.value === null ? DELETE : SET, value: c.value })),
    })),
  };
  const response = await ctx.controllerChannel.forward(ApiKey.IncrementalAlterConfigs, request, (r) => r.responses.some((x) => x.errorCode === ErrorCode.NOT_CONTROLLER));
  if (response === undefined) throw new KafkaError(ErrorCode.NOT_CONTROLLER, 'this node became the active controller; retry');
  for (const { plan } of sent) {
    const r = response.responses.find((x) => x.resourceType === plan.resourceType && x.resourceName === plan.resourceName);
    const err = r && r.errorCode !== ErrorCode.NONE ? new KafkaError(r.errorCode as ErrorCode, r.errorMessage ?? undefined) : r ? null : new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'no answer from the controller');
    decided.set(plan, outcome(plan, err));
  }
  if (!validateOnly) await ctx.metadata.waitFor(await ctx.controllerChannel.committedOffset());
}

interface AlterableResource {
  resourceType: number;
  resourceName: string;
  configs: readonly { name: string }[];
}

/**
 * One plan per resource of either API: first the checks both make, in Kafka's order (a resource
 * named twice, a key named twice), then the API's own in `check`, which sets the plan's changes.
 * A KafkaError thrown on the way becomes that resource's error; the other resources go on.
 */
export function planAlterations<R extends AlterableResource>(resources: readonly R[], replaceAll: boolean, check: (r: R, plan: PlannedAlteration) => void): PlannedAlteration[] {
  const dupResources = duplicates(resources.map((r) => `${r.resourceType}:${r.resourceName}`));
  return resources.map((r) => {
    const plan: PlannedAlteration = { resourceType: r.resourceType, resourceName: r.resourceName, replaceAll };
    try {
      if (dupResources.has(`${r.resourceType}:${r.resourceName}`)) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.');
      if (duplicates(r.configs.map((c) => c.name)).size > 0) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Error due to duplicate config keys');
      check(r, plan);
    } catch (err) {
      if (!(err instanceof KafkaError)) throw err;
      plan.error = err;
    }
    return plan;
  });
}

/** A request-level error, answered for every resource as Kafka does. */
export function everyResourceFailed(resources: readonly AlterableResource[], err: KafkaError): { throttleTimeMs: number; responses: ResourceOutcome[] } {
  return {
    throttleTimeMs: 0,
    responses: resources.map((r) => ({ resourceType: r.resourceType, resourceName: r.resourceName, errorCode: err.errorCode, errorMessage: err.message })),
  };
}
