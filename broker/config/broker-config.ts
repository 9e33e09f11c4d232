// The broker's configuration: server.properties (plus overrides) parsed into typed values with
// Kafka 3.9's defaults, then Kafka's derived values and cross-checks for KRaft mode.
// Invariants: a BrokerConfig is immutable and valid. Unlike Kafka, which only warns about an
// unknown name, any unknown key, bad value, or setting Samsa cannot honour (ZooKeeper, Kerberos,
// remote storage, Java plug-in classes) fails parseBrokerConfig with every problem
// listed, so a typo never silently leaves a default in force.
import type { ConfigDef, ConfigValue, DynamicUpdateMode } from './config-def.ts';
import { ConfigValueError, closestName, parseConfigValue } from './config-def.ts';
import { ConfigError } from './config-error.ts';
import type { ConfigProblem } from './config-error.ts';
import { BROKER_CONFIG_TABLE } from './broker-config-defs.ts';
import type { BrokerConfigName, BrokerConfigValues } from './broker-config-defs.ts';
import { TOPIC_CONFIG_TABLE } from './topic-config-defs.ts';
import type { HostPort, Listener, QuorumVoter, SecurityProtocol } from './listeners.ts';
import { formatListener, listenerNames, parseBootstrapServers, parseListenerOverrideKey, parseListeners, parseQuorumVoters, parseSecurityProtocolMap } from './listeners.ts';
import { REPLICA_SELECTORS } from '../fetch/replica-selector.ts';

export type { BrokerConfigName, BrokerConfigValues } from './broker-config-defs.ts';

export interface BrokerConfigDef extends ConfigDef {
  readonly name: BrokerConfigName;
  readonly dynamic: DynamicUpdateMode;
}

/** Every broker config definition, by Kafka name. */
export const BROKER_CONFIG_DEFS: ReadonlyMap<BrokerConfigName, BrokerConfigDef> = new Map(
  Object.entries(BROKER_CONFIG_TABLE).map(([name, d]) => [name as BrokerConfigName, { ...d, name } as BrokerConfigDef]),
);

export type ProcessRole = 'broker' | 'controller';

/** Prefixes of Kafka settings Samsa knowingly does not support, with the reason. */
const UNSUPPORTED_PREFIXES: readonly [prefix: string, reason: string][] = [
  ['zookeeper.', 'ZooKeeper mode is not supported; Samsa runs only in KRaft mode (process.roles)'],
  ['remote.log.', 'tiered (remote) storage is not supported'],
];

/** The authorizer Samsa implements (KIP-801: ACLs in the metadata log). */
export const STANDARD_AUTHORIZER = 'org.apache.kafka.metadata.authorizer.StandardAuthorizer';
const ACL_AUTHORIZER = 'kafka.security.authorizer.AclAuthorizer';

const LOG_DIRS_SPLIT = /\s*,\s*/;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

export class BrokerConfig {
  /** The properties as given (file plus overrides), for DescribeConfigs' STATIC_BROKER_CONFIG. */
  readonly originals: Readonly<Record<string, string>>;
  readonly nodeId: number;
  readonly processRoles: readonly ProcessRole[];
  /** Data directories: log.dirs, else log.dir. */
  readonly logDirs: readonly string[];
  /** metadata.log.dir, else the first log dir. */
  readonly metadataLogDir: string;
  /** log.retention.ms, else .minutes, else .hours; any negative value means unlimited (-1). */
  readonly logRetentionMs: number;
  /** log.roll.ms, else log.roll.hours. */
  readonly logRollMs: number;
  readonly logRollJitterMs: number;
  /** log.flush.interval.ms, else log.flush.scheduler.interval.ms. */
  readonly logFlushIntervalMs: number;
  readonly listenerSecurityProtocolMap: ReadonlyMap<string, SecurityProtocol>;
  /** Every listener this node binds. */
  readonly listeners: readonly Listener[];
  /** Listeners published to clients in broker registrations: advertised.listeners (else listeners), less controller listeners. */
  readonly advertisedListeners: readonly Listener[];
  readonly controllerListenerNames: readonly string[];
  /** The listeners this node binds for the controller role, in controller.listener.names order. */
  readonly controllerListeners: readonly Listener[];
  readonly interBrokerListenerName: string;
  readonly quorumVoters: readonly QuorumVoter[];
  readonly quorumBootstrapServers: readonly HostPort[];
  private readonly values: ReadonlyMap<string, ConfigValue>;

  /** Use parseBrokerConfig: this constructor trusts its already-validated input. */
  constructor(originals: Record<string, string>, values: Map<string, ConfigValue>, derived: Derived) {
    this.originals = Object.freeze({ ...originals });
    this.values = values;
    this.nodeId = derived.nodeId;
    this.processRoles = derived.processRoles;
    this.logDirs = derived.logDirs;
    this.metadataLogDir = derived.metadataLogDir;
    this.logRetentionMs = derived.logRetentionMs;
    this.logRollMs = derived.logRollMs;
    this.logRollJitterMs = derived.logRollJitterMs;
    this.logFlushIntervalMs = derived.logFlushIntervalMs;
    this.listenerSecurityProtocolMap = derived.listenerSecurityProtocolMap;
    this.listeners = derived.listeners;
    this.advertisedListeners = derived.advertisedListeners;
    this.controllerListenerNames = derived.controllerListenerNames;
    this.controllerListeners = derived.controllerListeners;
    this.interBrokerListenerName = derived.interBrokerListenerName;
    this.quorumVoters = derived.quorumVoters;
    this.quorumBootstrapServers = derived.quorumBootstrapServers;
    Object.freeze(this);
  }

  /** The typed value of a config: the given one, else Kafka's default. */
  get<K extends BrokerConfigName>(name: K): BrokerConfigValues[K] {
    return this.values.get(name) as BrokerConfigValues[K];
  }

  /** Whether the properties set this key explicitly. */
  isSet(name: BrokerConfigName): boolean {
    return Object.hasOwn(this.originals, name);
  }

  get isBroker(): boolean {
    return this.processRoles.includes('broker');
  }

  get isController(): boolean {
    return this.processRoles.includes('controller');
  }
}

type Derived = Omit<BrokerConfig, 'originals' | 'get' | 'isSet' | 'isBroker' | 'isController' | 'values'>;

function unknownKeyProblem(key: string): ConfigProblem {
  for (const [prefix, reason] of UNSUPPORTED_PREFIXES) {
    if (key.startsWith(prefix)) return { key, message: `Unsupported configuration ${key}: ${reason}` };
  }
  const topicDef = (TOPIC_CONFIG_TABLE as Record<string, { synonyms: readonly string[] }>)[key];
  if (topicDef !== undefined && topicDef.synonyms.length > 0 && !BROKER_CONFIG_DEFS.has(key as BrokerConfigName)) {
    return {
      key,
      message: `Unknown configuration ${key}: that is a topic-level config; its broker-wide default is ${topicDef.synonyms[0]}`,
    };
  }
  const suggestion = closestName(key, BROKER_CONFIG_DEFS.keys());
  return { key, message: `Unknown configuration ${key}` + (suggestion ? ` (did you mean ${suggestion}?)` : '') };
}

/**
 * Parses and validates broker properties. Throws ConfigError listing every problem, each with its key.
 */
export function parseBrokerConfig(props: Readonly<Record<string, string>>): BrokerConfig {
  const problems: ConfigProblem[] = [];
  const values = new Map<string, ConfigValue>();
  for (const [name, d] of BROKER_CONFIG_DEFS) values.set(name, d.default);
  for (const [key, raw] of Object.entries(props)) {
    const d = BROKER_CONFIG_DEFS.get(key as BrokerConfigName);
    if (d === undefined) {
      // listener.name.<l>.[<mechanism>.]<config> overrides a known config for one listener.
      const override = parseListenerOverrideKey(key);
      const od = override && BROKER_CONFIG_DEFS.get(override.config as BrokerConfigName);
      if (od) {
        try {
          parseConfigValue({ ...od, name: key }, raw);
        } catch (e) {
          if (!(e instanceof ConfigValueError)) throw e;
          problems.push({ key, message: e.message });
        }
      } else problems.push(unknownKeyProblem(key));
      continue;
    }
    try {
      values.set(key, parseConfigValue(d, raw));
    } catch (e) {
      if (!(e instanceof ConfigValueError)) throw e;
      problems.push({ key, message: e.message });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const derived = derive(props, values, problems);
  if (problems.length > 0 || derived === null) throw new ConfigError(problems);
  return new BrokerConfig({ ...props }, values, derived);
}

function derive(props: Readonly<Record<string, string>>, values: Map<string, ConfigValue>, problems: ConfigProblem[]): Derived | null {
  const get = <K extends BrokerConfigName>(k: K): BrokerConfigValues[K] => values.get(k) as BrokerConfigValues[K];
  const isSet = (k: BrokerConfigName): boolean => Object.hasOwn(props, k);
  const problem = (key: string | null, message: string): void => {
    problems.push({ key, message });
  };
  const attempt = <T>(f: () => T, fallback: T): T => {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof ConfigValueError)) throw e;
      problem(e.key, e.message);
      return fallback;
    }
  };

  // KRaft identity.
  const processRoles = get('process.roles') as readonly ProcessRole[];
  if (processRoles.length === 0) {
    problem('process.roles', 'process.roles must be set to broker, controller or broker,controller: Samsa runs only in KRaft mode');
  } else if (new Set(processRoles).size !== processRoles.length) {
    problem('process.roles', `Duplicate role names found in process.roles: ${processRoles.join(',')}`);
  }
  const isBroker = processRoles.includes('broker');
  const isController = processRoles.includes('controller');
  const nodeId = get('node.id');
  if (nodeId < 0) {
    problem('node.id', 'Missing configuration node.id, which is required when process.roles is defined (i.e. when running in KRaft mode)');
  }
  const quorumVoters = attempt(() => parseQuorumVoters('controller.quorum.voters', get('controller.quorum.voters')), []);
  const quorumBootstrapServers = attempt(() => parseBootstrapServers('controller.quorum.bootstrap.servers', get('controller.quorum.bootstrap.servers')), []);
  if (get('controller.quorum.voters').length === 0 && get('controller.quorum.bootstrap.servers').length === 0) {
    problem(
      'controller.quorum.voters',
      'If using process.roles, either controller.quorum.bootstrap.servers must contain the set of bootstrap controllers or controller.quorum.voters must contain a parseable set of controllers.',
    );
  }
  if (quorumVoters.length > 0 && nodeId >= 0) {
    const voterIds = quorumVoters.map((v) => v.id);
    if (isController && !voterIds.includes(nodeId)) {
      problem('controller.quorum.voters', `If process.roles contains the 'controller' role, the node id ${nodeId} must be included in the set of voters controller.quorum.voters=${voterIds.join(',')}`);
    }
    if (isBroker && !isController && voterIds.includes(nodeId)) {
      problem('controller.quorum.voters', `If process.roles contains just the 'broker' role, the node id ${nodeId} must not be included in the set of voters controller.quorum.voters=${voterIds.join(',')}`);
    }
  }

  // Listeners. As in Kafka, when the protocol map is left at its default, controller listener
  // names missing from it are taken to be PLAINTEXT.
  const controllerListenerNames = listenerNames(get('controller.listener.names'));
  const protocolMap = attempt(() => parseSecurityProtocolMap('listener.security.protocol.map', get('listener.security.protocol.map')), new Map<string, SecurityProtocol>());
  if (!isSet('listener.security.protocol.map')) {
    for (const n of controllerListenerNames) if (!protocolMap.has(n)) protocolMap.set(n, 'PLAINTEXT');
  }
  const listeners = attempt(() => parseListeners('listeners', get('listeners'), protocolMap), []);
  const advertisedRaw = get('advertised.listeners');
  const advertisedAll = advertisedRaw === null ? listeners : attempt(() => parseListeners('advertised.listeners', advertisedRaw, protocolMap), []);
  for (const l of listeners) {
    if (!l.securityProtocol.startsWith('SASL_')) continue;
    const key = `listener.name.${l.name.toLowerCase()}.sasl.enabled.mechanisms`;
    const raw = props[key];
    const mechanisms = raw !== undefined ? raw.split(',').map((m) => m.trim()).filter((m) => m !== '') : get('sasl.enabled.mechanisms');
    if (mechanisms.includes('GSSAPI')) {
      problem(raw !== undefined ? key : 'sasl.enabled.mechanisms', `Listener ${l.name}: GSSAPI (Kerberos) is not supported; enable PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER in sasl.enabled.mechanisms`);
    }
  }
  if (advertisedRaw !== null) {
    const bound = new Set(listeners.map((l) => l.name));
    const extra = advertisedAll.filter((l) => !bound.has(l.name)).map((l) => l.name);
    if (extra.length > 0) {
      problem('advertised.listeners', `advertised.listeners listener names must be equal to or a subset of the ones defined in listeners. Found ${extra.join(',')}. The valid options based on the current configuration are ${[...bound].join(',')}`);
    }
    if (advertisedAll.some((l) => l.host === '0.0.0.0' || l.host === '::')) {
      problem('advertised.listeners', 'advertised.listeners cannot use the nonroutable meta-address 0.0.0.0. Use a routable IP address.');
    }
  }
  const isControllerListener = (l: Listener): boolean => controllerListenerNames.includes(l.name);
  const controllerListeners = controllerListenerNames.flatMap((n) => listeners.filter((l) => l.name === n));
  const advertisedListeners = advertisedAll.filter((l) => !isControllerListener(l));
  if (controllerListenerNames.length === 0) {
    problem('controller.listener.names', 'controller.listener.names must contain at least one value when running in KRaft mode');
  } else if (isController && controllerListeners.length === 0) {
    problem('controller.listener.names', `controller.listener.names must contain at least one value appearing in the listeners configuration when running the KRaft controller role (listeners=${listeners.map(formatListener).join(',')})`);
  }
  if (isBroker && !isController && listeners.some(isControllerListener)) {
    problem('listeners', "The listeners config must not contain KRaft controller listeners from controller.listener.names when process.roles contains only the 'broker' role because that would allow controller traffic to reach the broker");
  }
  if (isController && !isBroker && listeners.some((l) => !isControllerListener(l))) {
    problem('listeners', "The listeners config must only contain KRaft controller listeners from controller.listener.names when process.roles=controller");
  }

  // Inter-broker listener.
  if (isSet('inter.broker.listener.name') && isSet('security.inter.broker.protocol')) {
    problem('inter.broker.listener.name', 'Only one of inter.broker.listener.name and security.inter.broker.protocol should be set.');
  }
  const interBrokerListenerName = (get('inter.broker.listener.name') ?? get('security.inter.broker.protocol')).toUpperCase();
  const interBroker = listeners.find((l) => l.name === interBrokerListenerName);
  if (isBroker && interBroker?.securityProtocol.startsWith('SASL_')) {
    const raw = props[`listener.name.${interBroker.name.toLowerCase()}.sasl.enabled.mechanisms`];
    const enabled = raw !== undefined ? raw.split(',').map((m) => m.trim()) : get('sasl.enabled.mechanisms');
    if (!enabled.includes(get('sasl.mechanism.inter.broker.protocol'))) {
      problem('sasl.mechanism.inter.broker.protocol', 'sasl.mechanism.inter.broker.protocol must be included in sasl.enabled.mechanisms when SASL is used for inter-broker communication');
    }
  }
  if (isBroker && listeners.length > 0) {
    if (controllerListenerNames.includes(interBrokerListenerName)) {
      problem('inter.broker.listener.name', `controller.listener.names must not contain a value appearing in the inter.broker.listener.name configuration (${interBrokerListenerName}) when running KRaft with the broker role`);
    } else if (!advertisedListeners.some((l) => l.name === interBrokerListenerName)) {
      problem('inter.broker.listener.name', `inter.broker.listener.name must be a listener name defined in advertised.listeners. The valid options based on currently configured listeners are ${advertisedListeners.map((l) => l.name).join(',')}`);
    }
  }

  // Directories.
  const logDirs = (get('log.dirs') ?? get('log.dir')).trim().split(LOG_DIRS_SPLIT).filter((d) => d !== '');
  if (logDirs.length === 0) problem('log.dirs', 'At least one log directory must be defined via log.dirs or log.dir.');
  const metadataLogDir = get('metadata.log.dir') ?? logDirs[0] ?? '';

  // Times with unit synonyms, resolved as KafkaConfig does.
  const retentionMs = get('log.retention.ms');
  const retentionMinutes = get('log.retention.minutes');
  let logRetentionMs = retentionMs ?? (retentionMinutes !== null ? retentionMinutes * MINUTE_MS : get('log.retention.hours') * HOUR_MS);
  if (logRetentionMs < 0) logRetentionMs = -1;
  if (logRetentionMs === 0) {
    problem(retentionMs !== null ? 'log.retention.ms' : retentionMinutes !== null ? 'log.retention.minutes' : 'log.retention.hours', 'log.retention.ms must be unlimited (-1) or, equal or greater than 1');
  }
  const logRollMs = get('log.roll.ms') ?? get('log.roll.hours') * HOUR_MS;
  const logRollJitterMs = get('log.roll.jitter.ms') ?? get('log.roll.jitter.hours') * HOUR_MS;
  const logFlushIntervalMs = get('log.flush.interval.ms') ?? get('log.flush.scheduler.interval.ms');

  // Other cross-checks Kafka makes.
  if (get('group.max.session.timeout.ms') < get('group.min.session.timeout.ms')) {
    problem('group.max.session.timeout.ms', 'group.max.session.timeout.ms must be greater than or equal to group.min.session.timeout.ms');
  }
  const cleanerThreads = get('log.cleaner.threads');
  if (get('log.cleaner.enable') && cleanerThreads > 0 && get('log.cleaner.dedupe.buffer.size') / cleanerThreads < 1024 * 1024) {
    problem('log.cleaner.dedupe.buffer.size', 'log.cleaner.dedupe.buffer.size must be at least 1MB per cleaner thread.');
  }
  if (get('log.cleaner.min.compaction.lag.ms') > get('log.cleaner.max.compaction.lag.ms')) {
    problem('log.cleaner.min.compaction.lag.ms', 'log.cleaner.min.compaction.lag.ms must not be greater than log.cleaner.max.compaction.lag.ms');
  }

  // Settings Kafka has that Samsa refuses rather than ignores.
  if (get('remote.log.storage.system.enable')) problem('remote.log.storage.system.enable', 'Tiered (remote) storage is not supported: remote.log.storage.system.enable must be false');
  const authorizer = get('authorizer.class.name');
  if (authorizer === ACL_AUTHORIZER) problem('authorizer.class.name', `${ACL_AUTHORIZER} keeps ACLs in ZooKeeper, which KRaft mode does not have: use ${STANDARD_AUTHORIZER}`);
  else if (authorizer !== '' && authorizer !== STANDARD_AUTHORIZER) problem('authorizer.class.name', `Java classes cannot be loaded: authorizer.class.name must be ${STANDARD_AUTHORIZER} or empty`);
  const selector = get('replica.selector.class');
  if (selector !== null && selector !== '' && !REPLICA_SELECTORS.includes(selector)) problem('replica.selector.class', `Java classes cannot be loaded: replica.selector.class must be unset or one of ${REPLICA_SELECTORS.join(', ')}`);
  for (const [name, d] of BROKER_CONFIG_DEFS) {
    if (d.type === 'class' && isSet(name) && values.get(name) !== d.default && values.get(name) !== '') {
      problem(name, `Java classes cannot be loaded: ${name}=${String(values.get(name))} is not supported`);
    }
  }
  if (get('metric.reporters').length > 0) problem('metric.reporters', 'Java metric reporters cannot be loaded: metric.reporters must be empty');

  if (problems.length > 0) return null;
  return {
    nodeId,
    processRoles,
    logDirs,
    metadataLogDir,
    logRetentionMs,
    logRollMs,
    logRollJitterMs,
    logFlushIntervalMs,
    listenerSecurityProtocolMap: protocolMap,
    listeners,
    advertisedListeners,
    controllerListenerNames,
    controllerListeners,
    interBrokerListenerName,
    quorumVoters,
    quorumBootstrapServers,
  };
}
