// What the KRaft admin tools (metadata-quorum, features) share: Kafka's choice between
// --bootstrap-server (brokers) and --bootstrap-controller (the controllers' own listener, where
// requests go on to the active controller), one connection to the first address of the list that
// answers, retries while the quorum elects a leader, and Kafka's way of printing a failed
// call (the Java exception's class and message, as the tools print an ExecutionException's cause).
// Invariant: runAdmin never throws a refusal or a failed call past itself; it prints and exits 1.
import { parseHostPort } from '../../protocol/client/client.ts';
import { ConnectionError } from '../../protocol/client/connection-errors.ts';
import { KafkaConnection } from '../../protocol/client/connection.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { CliError, sleep } from './command-io.ts';
import type { CommandIo } from './command-io.ts';

export interface BootstrapChoice {
  /** 'server': a broker listener; 'controller': a controller listener (KIP-919). */
  kind: 'server' | 'controller';
  addresses: string[];
}

/** Exactly one of the two options, as Kafka's tools require (argparse's mutually exclusive group). */
export function bootstrapChoice(o: { bootstrapServer?: string; bootstrapController?: string }): BootstrapChoice {
  if (o.bootstrapServer !== undefined && o.bootstrapController !== undefined) {
    throw new CliError('argument --bootstrap-controller: not allowed with argument --bootstrap-server');
  }
  const raw = o.bootstrapServer ?? o.bootstrapController;
  if (raw === undefined) throw new CliError('one of the arguments --bootstrap-server --bootstrap-controller is required');
  const addresses = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const a of addresses) {
    try {
      parseHostPort(a);
    } catch {
      throw new CliError(`Invalid url in ${o.bootstrapServer !== undefined ? 'bootstrap.servers' : 'bootstrap.controllers'}: ${a}`);
    }
  }
  if (addresses.length === 0) throw new CliError(`No resolvable bootstrap urls given in ${o.bootstrapServer !== undefined ? 'bootstrap.servers' : 'bootstrap.controllers'}`);
  return { kind: o.bootstrapServer !== undefined ? 'server' : 'controller', addresses };
}

/** A connection (API versions negotiated) to the first address that accepts one. */
export async function connectFirst(addresses: readonly string[], clientId: string, timeoutMs = 10_000): Promise<KafkaConnection> {
  let last: unknown;
  for (const address of addresses) {
    const { host, port } = parseHostPort(address);
    try {
      return await KafkaConnection.connect(host, port, { clientId, connectTimeoutMs: timeoutMs, requestTimeoutMs: timeoutMs });
    } catch (e) {
      if (!(e instanceof ConnectionError || e instanceof KafkaError)) throw e;
      last = e;
    }
  }
  throw last;
}

/** Kafka's exception class for an error name: UNSUPPORTED_VERSION → UnsupportedVersionException. */
export function javaExceptionName(errorName: string): string {
  const camel = errorName
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
  return camel.endsWith('Exception') ? camel : `${camel}Exception`;
}

/** The line Kafka's tools print for a failed admin call. */
export function describeFailure(e: KafkaError | ConnectionError): string {
  if (e instanceof KafkaError) return `org.apache.kafka.common.errors.${javaExceptionName(e.errorName)}: ${e.message}`;
  if (e.code === 'CONNECT_TIMEOUT' || e.code === 'REQUEST_TIMEOUT') return `org.apache.kafka.common.errors.TimeoutException: ${e.message}`;
  return `org.apache.kafka.common.errors.NetworkException: ${e.message}`;
}

/** Errors meaning the request reached a node that is not the quorum's leader: nothing was done. */
const NOT_THE_LEADER: ReadonlySet<number> = new Set([ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.NOT_CONTROLLER]);
const RETRY_BACKOFF_MS = 500;

/**
 * With --bootstrap-controller, requests go to the active controller, as Kafka's admin client
 * sends them: DescribeCluster on a controller listener (KIP-919) names it and its endpoint. A
 * controller without that answer, or a quorum without a leader, leaves the bootstrap connection.
 */
async function activeController(bootstrap: KafkaConnection, clientId: string, timeoutMs: number): Promise<KafkaConnection | undefined> {
  let response;
  try {
    response = await bootstrap.send(ApiKey.DescribeCluster, { includeClusterAuthorizedOperations: false, endpointType: 2 });
  } catch (e) {
    if (e instanceof KafkaError && e.errorCode === ErrorCode.UNSUPPORTED_VERSION) return undefined;
    throw e;
  }
  if (response.errorCode !== ErrorCode.NONE || response.controllerId < 0) return undefined;
  const active = response.brokers.find((b) => b.brokerId === response.controllerId);
  if (active === undefined || (active.host === bootstrap.host && active.port === bootstrap.port)) return undefined;
  return KafkaConnection.connect(active.host, active.port, { clientId, connectTimeoutMs: timeoutMs, requestTimeoutMs: timeoutMs });
}

/**
 * Runs an admin subcommand: `connect` opens (once) a connection to the chosen bootstrap address,
 * or with --bootstrap-controller to the active controller. A call answered by a node that is not
 * the leader (an election in progress) is tried again from the start, within retryForMs, as
 * Kafka's admin client retries it. A CliError prints its message, a failed call Kafka's
 * exception line; both exit 1. Connections are closed whatever happens.
 */
export async function runAdmin(
  io: CommandIo,
  options: { bootstrapServer?: string; bootstrapController?: string },
  clientId: string,
  body: (connect: () => Promise<KafkaConnection>, choice: BootstrapChoice) => Promise<void>,
  timeoutMs = 30_000,
  retryForMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + retryForMs;
  try {
    const choice = bootstrapChoice(options);
    for (;;) {
      const opened: KafkaConnection[] = [];
      let target: KafkaConnection | undefined;
      const connect = async (): Promise<KafkaConnection> => {
        if (target !== undefined) return target;
        const bootstrap = await connectFirst(choice.addresses, clientId, timeoutMs);
        opened.push(bootstrap);
        const active = choice.kind === 'controller' ? await activeController(bootstrap, clientId, timeoutMs) : undefined;
        if (active !== undefined) opened.push(active);
        target = active ?? bootstrap;
        return target;
      };
      try {
        await body(connect, choice);
        return;
      } catch (e) {
        if (!(e instanceof KafkaError && NOT_THE_LEADER.has(e.errorCode) && Date.now() + RETRY_BACKOFF_MS < deadline)) throw e;
      } finally {
        await Promise.all(opened.map((c) => c.close()));
      }
      await sleep(RETRY_BACKOFF_MS);
    }
  } catch (e) {
    if (e instanceof CliError) io.err(`${e.message}\n`);
    else if (e instanceof KafkaError || e instanceof ConnectionError) io.err(`${describeFailure(e)}\n`);
    else throw e;
    io.fail(1);
  }
}
