// How every `samsa` command talks to the outside: lines to stdout and stderr, an exit code, and
// one error type for "the user asked for something wrong" (CliError), which is printed and never
// shown as a stack trace. Commands take a CommandIo so tests can capture what they print.
// Invariant: a command's action never throws past runAction; it prints and sets the exit code.
import { Command, CommanderError } from 'commander';
import { KafkaError } from '../../protocol/errors.ts';
import { ConnectionError } from '../../protocol/client/connection-errors.ts';
import { KafkaClient } from '../../protocol/client/client.ts';

export interface CommandIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Called with the exit code when a command fails. */
  fail: (code: number) => void;
}

export const processIo: CommandIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  fail: (code) => {
    process.exitCode = code;
  },
};

/** A mistake in the command line or a refusal the tool reports as Kafka's does: message only. */
export class CliError extends Error {
  readonly code = 'CLI_ERROR';
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * Runs a command body. CliError prints its message; a KafkaError or lost connection prints the
 * prefix Kafka's tool uses (e.g. "Error while executing topic command : ") and the message.
 * Anything else is a bug and is rethrown.
 */
export async function runAction(io: CommandIo, errorPrefix: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    if (e instanceof CliError) {
      io.err(`${e.message}\n`);
    } else if (e instanceof KafkaError || e instanceof ConnectionError) {
      io.err(`${errorPrefix}${e.message}\n`);
    } else {
      throw e;
    }
    io.fail(1);
  }
}

/** A client for --bootstrap-server ("host:port" or a comma list); a bad address is a CliError. */
export function clientFor(bootstrapServer: string | undefined, clientId: string, extra: { requestTimeoutMs?: number } = {}): KafkaClient {
  if (bootstrapServer === undefined || bootstrapServer.trim() === '') {
    throw new CliError('Missing required argument "[bootstrap-server]"');
  }
  try {
    return new KafkaClient({ bootstrapServers: bootstrapServer, clientId, retries: 3, ...extra });
  } catch (e) {
    if (e instanceof TypeError) throw new CliError(`Invalid bootstrap server: ${e.message}`);
    throw e;
  }
}

/** commander's accumulator for a repeatable option. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * Parses args with a command as the user gave them (no program name) and returns its raw option
 * values, throwing CliError instead of exiting; for tests and for commands that validate later.
 */
export function parseOptions<T>(command: Command, args: readonly string[]): T {
  let result: T | undefined;
  command.exitOverride();
  command.configureOutput({ writeOut: () => {}, writeErr: () => {} });
  command.action((opts: T) => {
    result = opts;
  });
  try {
    command.parse([...args], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) throw new CliError(e.message);
    throw e;
  }
  if (result === undefined) throw new CliError('no options parsed');
  return result;
}

/** An integer option value; commander hands options over as strings. */
export function parseInteger(name: string, value: string | undefined, min = -Infinity): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n)) throw new CliError(`Option ${name} expects an integer, got '${value}'`);
  if (n < min) throw new CliError(`Option ${name} must be at least ${min}, got ${n}`);
  return n;
}

/** "k=v" items (the value may contain '='); used by --property, --config, --producer-props. */
export function parseKeyValues(items: readonly string[], option: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const item of items) {
    const at = item.indexOf('=');
    if (at <= 0) throw new CliError(`Invalid ${option} '${item}': expected key=value`);
    out.set(item.slice(0, at).trim(), item.slice(at + 1));
  }
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
