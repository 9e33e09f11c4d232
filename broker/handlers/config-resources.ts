// Config resources as the admin APIs see them: reading a resource's dynamic configs from an
// image, checking a BROKER resource name against this node, validating a new set of topic or
// broker dynamic configs with Kafka's errors, and applying IncrementalAlterConfigs operations.
// Invariants: everything here is pure over one image, so AlterConfigs and IncrementalAlterConfigs
// can decide inside one controller operation (read-modify-write without lost updates).
// Difference from Kafka: an unknown BROKER config name is refused (INVALID_REQUEST naming it, as
// server.properties refuses it) where Kafka stores it as a custom property.
import { configKey, ConfigResourceType, type MetadataImage } from '../../controller/metadata/image.ts';
import { topicNameProblem } from '../../controller/topic-names.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { BROKER_CONFIG_DEFS, type BrokerConfig, type BrokerConfigName, parseBrokerConfig } from '../config/broker-config.ts';
import { renderConfigValue } from '../config/config-def.ts';
import { ConfigError } from '../config/config-error.ts';
import { type DynamicBrokerConfigs, TOPIC_CONFIG_DEFS, type TopicConfigName, validateTopicConfigs } from '../config/topic-config.ts';

/** AlterConfigOp types of IncrementalAlterConfigs. */
export const AlterConfigOp = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;
const OP_NAMES = ['SET', 'DELETE', 'APPEND', 'SUBTRACT'] as const;

/** The dynamic configs stored for one resource (empty when none). */
export function resourceConfigs(image: MetadataImage, resourceType: number, resourceName: string): ReadonlyMap<string, string> {
  return image.configs.get(configKey(resourceType, resourceName)) ?? new Map();
}

/** This node's dynamic broker configs and the cluster-wide defaults, as topic-config.ts takes them. */
export function dynamicBrokerConfigs(image: MetadataImage, nodeId: number): DynamicBrokerConfigs {
  return {
    perBroker: Object.fromEntries(resourceConfigs(image, ConfigResourceType.Broker, String(nodeId))),
    clusterDefault: Object.fromEntries(resourceConfigs(image, ConfigResourceType.Broker, '')),
  };
}

/**
 * Checks that a non-empty BROKER resource name is this node's id. Kafka answers only for the node
 * it runs on; `what` is the word Kafka uses in the message ("Node" or "Broker").
 */
/** `nodeId` null: any broker's id (a controller validating a request a broker forwarded). */
export function checkBrokerResourceName(name: string, nodeId: number | null, what: 'Node' | 'Broker' = 'Node'): void {
  if (!/^[+-]?\d+$/.test(name) || !Number.isSafeInteger(Number(name))) {
    throw new KafkaError(ErrorCode.INVALID_REQUEST, `${what} id must be an integer, but it is: ${name}`);
  }
  if (nodeId !== null && Number(name) !== nodeId) {
    throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${nodeId}, but received ${name}`);
  }
}

/** Java's Set.toString, which Kafka's messages print: `Set(a, b)` in Scala. */
const scalaSet = (names: readonly string[]): string => `Set(${names.join(', ')})`;

/**
 * Validates the complete new set of dynamic configs of a BROKER resource (`perBroker` for a node
 * id, false for the cluster default) as Kafka's DynamicBrokerConfig does; failures are
 * INVALID_REQUEST, as Kafka reports them.
 */
export function validateBrokerDynamicConfigs(
  props: Readonly<Record<string, string>>,
  perBroker: boolean,
  broker: BrokerConfig,
  image: MetadataImage,
): void {
  const names = Object.keys(props);
  const readOnly = names.filter((n) => BROKER_CONFIG_DEFS.get(n as BrokerConfigName)?.dynamic === 'read-only');
  if (readOnly.length > 0) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Cannot update these configs dynamically: ${scalaSet(readOnly)}`);
  if (!perBroker) {
    const brokerOnly = names.filter((n) => BROKER_CONFIG_DEFS.get(n as BrokerConfigName)?.dynamic === 'per-broker');
    if (brokerOnly.length > 0) {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, `Cannot update these configs at default cluster level, broker id must be specified: ${scalaSet(brokerOnly)}`);
    }
  }
  // Types, ranges and cross-checks: the node's whole configuration with the change in force must
  // still be one the broker would start with.
  const current = dynamicBrokerConfigs(image, broker.nodeId);
  const merged = perBroker ? { ...broker.originals, ...current.clusterDefault, ...props } : { ...broker.originals, ...props, ...current.perBroker };
  try {
    parseBrokerConfig(merged);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const own = err.problems.find((p) => p.key !== null && Object.hasOwn(props, p.key)) ?? err.problems[0];
    throw new KafkaError(ErrorCode.INVALID_REQUEST, own?.message ?? err.message);
  }
}

/**
 * Validates the complete new set of overrides of an existing or new TOPIC resource, with
 * Kafka's controller checks in its order: name, values, existence.
 */
export function validateTopicResource(
  name: string,
  props: Readonly<Record<string, string | null>>,
  broker: BrokerConfig,
  image: MetadataImage,
): void {
  if (name === '') throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Default topic resources are not allowed.');
  const bad = topicNameProblem(name);
  if (bad) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, bad);
  const problems = validateTopicConfigs(props, broker, dynamicBrokerConfigs(image, broker.nodeId));
  if (problems.length > 0) throw new KafkaError(ErrorCode.INVALID_CONFIG, problems[0]!.message);
  if (!image.topicsByName.has(name)) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${name}' does not exist.`);
}

/** Whether a config of this resource type is a LIST (APPEND and SUBTRACT apply only to those). */
function listDefault(resourceType: number, name: string): { isList: boolean; defaultValue: string | null } {
  const d = resourceType === ConfigResourceType.Topic ? TOPIC_CONFIG_DEFS.get(name as TopicConfigName) : BROKER_CONFIG_DEFS.get(name as BrokerConfigName);
  if (d === undefined || d.type !== 'list') return { isList: false, defaultValue: null };
  return { isList: true, defaultValue: renderConfigValue(d.type, d.default) };
}

const listParts = (value: string | null): string[] => (value === null ? [] : value.split(',').filter((s) => s !== ''));

export interface IncrementalOp {
  name: string;
  configOperation: number;
  value: string | null;
}

/**
 * Applies IncrementalAlterConfigs operations to a resource's current dynamic configs, returning
 * the new value of every key named (null: removed). APPEND adds the items not yet present and
 * SUBTRACT removes items, both starting from the default when the key is unset.
 */
export function applyIncrementalOps(resourceType: number, current: ReadonlyMap<string, string>, ops: readonly IncrementalOp[]): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const op of ops) {
    const before = out.has(op.name) ? out.get(op.name)! : (current.get(op.name) ?? null);
    switch (op.configOperation) {
      case AlterConfigOp.SET:
        out.set(op.name, op.value);
        break;
      case AlterConfigOp.DELETE:
        out.set(op.name, null);
        break;
      case AlterConfigOp.APPEND:
      case AlterConfigOp.SUBTRACT: {
        const { isList, defaultValue } = listDefault(resourceType, op.name);
        if (!isList) {
          throw new KafkaError(ErrorCode.INVALID_CONFIG, `Can't ${OP_NAMES[op.configOperation]} to key ${op.name} because its type is not LIST.`);
        }
        const parts = listParts(before ?? defaultValue);
        const given = (op.value ?? '').split(',');
        if (op.configOperation === AlterConfigOp.APPEND) {
          for (const v of given) if (!parts.includes(v)) parts.push(v);
        } else {
          for (const v of given) {
            const i = parts.indexOf(v);
            if (i >= 0) parts.splice(i, 1);
          }
        }
        out.set(op.name, parts.join(','));
        break;
      }
      default:
        throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unknown operations type ${op.configOperation}`);
    }
  }
  return out;
}

/** Names that occur more than once. */
export function duplicates(names: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const n of names) (seen.has(n) ? dup : seen).add(n);
  return dup;
}

/** A TOPIC resource, or a BROKER one naming this node or the cluster default (""); else Kafka's error. */
export function checkAlterableResource(resourceType: number, resourceName: string, nodeId: number | null): void {
  if (resourceType === ConfigResourceType.Broker) {
    if (resourceName !== '') checkBrokerResourceName(resourceName, nodeId);
  } else if (resourceType !== ConfigResourceType.Topic) {
    throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unknown resource type ${resourceType}`);
  }
}
