// Samsa as a library: start a broker inside your own process, for test suites and tools.
//   const { bootstrap, stop } = await startBroker();   // e.g. bootstrap === '127.0.0.1:41234'
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { Broker } from './broker/broker.ts';
import { parseBrokerConfig } from './broker/config/broker-config.ts';
import { SINGLE_NODE_DEFAULTS } from './broker/main.ts';

export { Broker } from './broker/broker.ts';
export { type ClusterNode, startCluster, type StartClusterOptions, type StartedCluster } from './broker/embedded-cluster.ts';

export interface StartBrokerOptions {
  /** Data directory; a fresh temporary one (removed on stop) when absent. */
  logDir?: string;
  /** Any Kafka broker property, e.g. { 'num.partitions': '3' }. */
  overrides?: Readonly<Record<string, string>>;
  /** A pino logger; silent by default. */
  logger?: Logger;
  /** Client listener host (default 127.0.0.1); ports are ephemeral. */
  host?: string;
}

export interface StartedBroker {
  /** host:port for clients' bootstrap.servers. */
  bootstrap: string;
  broker: Broker;
  /** Base URL of the HTTP endpoints (/metrics, /health/ready), or undefined when http.listeners is empty. */
  http: string | undefined;
  stop(): Promise<void>;
}

export async function startBroker(options: StartBrokerOptions = {}): Promise<StartedBroker> {
  const host = options.host ?? '127.0.0.1';
  const ownDir = options.logDir === undefined;
  const logDir = options.logDir ?? (await mkdtemp(join(tmpdir(), 'samsa-')));
  const config = parseBrokerConfig({
    ...SINGLE_NODE_DEFAULTS,
    listeners: `PLAINTEXT://${host}:0,CONTROLLER://${host}:0`,
    'advertised.listeners': `PLAINTEXT://${host}:0`,
    'controller.quorum.voters': `1@${host}:0`,
    'log.dirs': logDir,
    'http.listeners': `http://${host}:0`,
    ...options.overrides,
  });
  const broker = await Broker.start(config, options.logger ?? pino({ level: 'silent' }), { autoFormat: true });
  return {
    bootstrap: broker.bootstrap,
    broker,
    http: broker.httpListeners[0] ? `http://${host}:${broker.httpListeners[0].port}` : undefined,
    async stop() {
      await broker.stop();
      if (ownDir) await rm(logDir, { recursive: true, force: true });
    },
  };
}
