// `npm start` and `samsa server-start`: runs one node until SIGTERM or SIGINT.
// With no properties file it runs the single-node defaults below (broker and controller in one
// process, clients on localhost:9092, controller on localhost:9093, data in ./data, storage
// formatted on first start). With a file, storage must have been formatted (`samsa storage format`).
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino, { type Logger } from 'pino';
import { Broker } from './broker.ts';
import { ConfigError } from './config/config-error.ts';
import { parseBrokerConfig, type BrokerConfig } from './config/broker-config.ts';
import { loadServerProperties, parseOverrides } from './config/server-properties.ts';

/** The configuration `npm start` runs with; every key can be overridden. */
export const SINGLE_NODE_DEFAULTS: Readonly<Record<string, string>> = {
  'process.roles': 'broker,controller',
  'node.id': '1',
  listeners: 'PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093',
  'advertised.listeners': 'PLAINTEXT://localhost:9092',
  'controller.listener.names': 'CONTROLLER',
  'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
  'controller.quorum.voters': '1@localhost:9093',
  'log.dirs': './data',
  'num.partitions': '1',
  'offsets.topic.replication.factor': '1',
  'transaction.state.log.replication.factor': '1',
  'transaction.state.log.min.isr': '1',
};

export function createLogger(): Logger {
  return pino({ level: process.env.LOG_LEVEL ?? 'info', base: { pid: process.pid } });
}

/** Starts a node from a properties file (or the single-node defaults) and stops it on a signal. */
export async function runServer(configFile: string | undefined, overrides: readonly string[]): Promise<Broker> {
  const logger = createLogger();
  let config: BrokerConfig;
  try {
    config = configFile ? await loadServerProperties(configFile, overrides) : parseBrokerConfig({ ...SINGLE_NODE_DEFAULTS, ...parseOverrides(overrides) });
  } catch (err) {
    if (err instanceof ConfigError) {
      logger.fatal({ file: configFile ?? '(defaults)' }, err.message);
      process.exit(1);
    }
    throw err;
  }
  let broker: Broker;
  let stopping = false;
  try {
    broker = await Broker.start(config, logger, {
      autoFormat: configFile === undefined,
      // A state the node cannot serve in: it has begun a clean stop; exit non-zero once done.
      onFatal: (err, stopped) => {
        stopping = true;
        stopped.then(
          () => process.exit(1),
          (e: unknown) => {
            logger.error({ err: e }, 'shutdown after a fatal error failed');
            process.exit(1);
          },
        );
      },
    });
  } catch (err) {
    logger.fatal({ err }, `startup failed: ${(err as Error).message}`);
    process.exit(1);
  }
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    broker.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return broker;
}

/** argv: `[server.properties] [--override key=value ...]`. */
export function parseServerArgs(argv: readonly string[]): { configFile: string | undefined; overrides: string[] } {
  const overrides: string[] = [];
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--override') {
      const v = argv[++i];
      if (v === undefined) throw new Error('--override needs key=value');
      overrides.push(v);
    } else if (a.startsWith('--override=')) {
      overrides.push(a.slice('--override='.length));
    } else if (configFile === undefined && !a.startsWith('-')) {
      configFile = a;
    } else {
      throw new Error(`unexpected argument ${a}; usage: [server.properties] [--override key=value ...]`);
    }
  }
  return { configFile, overrides };
}

/** Entry point of `npm start` (through broker/launch.cjs) and of `tsx broker/main.ts`. */
export async function main(argv: readonly string[]): Promise<void> {
  let args;
  try {
    args = parseServerArgs(argv);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  await runServer(args.configFile, args.overrides);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
