// What the KRaft admin tools (metadata-quorum, features) share: Kafka's choice between
// --bootstrap-server (brokers) and --bootstrap-controller (the controllers' own listener), one
// connection to the first address of the list that answers, and Kafka's way of printing a failed
// call (the Java exception's class and message, as the tools print an ExecutionException's cause).
// Invariant: runAdmin never throws a refusal or a failed call past itself; it prints and exits 1.
import { parseHostPort } from '../../protocol/client/client.ts';
import { ConnectionError } from '../../protocol/client/connection-errors.ts';
import { KafkaConnection } from '../../protocol/client/connection.ts';
import { KafkaError } from '../../protocol/errors.ts';
import { CliError } from './command-io.ts';
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

/**
 * Runs an admin subcommand: `connect` opens (once) a connection to the chosen bootstrap address.
 * A CliError prints its message, a failed call Kafka's exception line; both exit 1. The
 * connection is closed whatever happens.
 */
export async function runAdmin(
  io: CommandIo,
  options: { bootstrapServer?: string; bootstrapController?: string },
  clientId: string,
  body: (connect: () => Promise<KafkaConnection>, choice: BootstrapChoice) => Promise<void>,
  timeoutMs = 30_000,
): Promise<void> {
  let conn: KafkaConnection | undefined;
  try {
    const choice = bootstrapChoice(options);
    await body(async () => (conn ??= await connectFirst(choice.addresses, clientId, timeoutMs)), choice);
  } catch (e) {
    if (e instanceof CliError) io.err(`${e.message}\n`);
    else if (e instanceof KafkaError || e instanceof ConnectionError) io.err(`${describeFailure(e)}\n`);
    else throw e;
    io.fail(1);
  } finally {
    await conn?.close();
  }
}
