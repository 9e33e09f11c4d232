// The console's admin path: its actions are Kafka requests served in process by this node's own
// handlers (the broker listener's router), as if they came from a client on a listener named
// CONSOLE with the logged-in user's principal. So a topic the console creates goes through the
// CreateTopics handler and the controller channel exactly as a client's would, Kafka's errors
// come back as they would to a client, and an authorizer the handlers consult sees the user.
// Versions are fixed per API (each one the handlers serve), so request shapes are known here.
import { ErrorCode, errorByCode } from '../../protocol/errors.ts';
import { ApiKey, type ApiMessages } from '../../protocol/generated/api-table.ts';
import { NO_RESPONSE, type RequestContext } from '../handlers/api-handler.ts';
import type { BrokerContext } from '../broker-context.ts';
import type { Router } from '../router.ts';

export const CONSOLE_LISTENER = 'CONSOLE';

/** The version the console speaks of each API it uses (topic names rather than ids in Fetch). */
const VERSIONS: Partial<Record<ApiKey, number>> = {
  [ApiKey.CreateTopics]: 7,
  [ApiKey.DeleteTopics]: 5,
  [ApiKey.CreatePartitions]: 3,
  [ApiKey.DescribeConfigs]: 4,
  [ApiKey.IncrementalAlterConfigs]: 1,
  [ApiKey.ListOffsets]: 7,
  [ApiKey.Fetch]: 12,
  [ApiKey.Produce]: 9,
  [ApiKey.ListGroups]: 4,
  [ApiKey.DescribeGroups]: 5,
  [ApiKey.OffsetFetch]: 7,
  [ApiKey.OffsetCommit]: 8,
  [ApiKey.DescribeLogDirs]: 4,
  [ApiKey.DescribeCluster]: 1,
};

/** A failed console action: the HTTP status and, for a Kafka outcome, Kafka's error name. */
export class ConsoleError extends Error {
  readonly code = 'CONSOLE_ERROR';
  constructor(
    readonly status: number,
    message: string,
    readonly kafkaError: string | null = null,
  ) {
    super(message);
  }
}

/** Throws Kafka's error for a non-zero code, with the handler's message when it gave one. */
export function checkKafka(errorCode: number, message?: string | null, what?: string): void {
  if (errorCode === ErrorCode.NONE) return;
  const info = errorByCode(errorCode);
  const text = message || info.message || info.name;
  throw new ConsoleError(409, what ? `${what}: ${text}` : text, info.name);
}

export class ConsoleAdmin {
  private correlationId = 0;
  constructor(
    private readonly ctx: BrokerContext,
    private readonly router: Router,
  ) {}

  get context(): BrokerContext {
    return this.ctx;
  }

  /** Serves one request through this node's handler for it, as `principal`. */
  async call<K extends ApiKey>(apiKey: K, request: ApiMessages[K]['request'], principal: string): Promise<ApiMessages[K]['response']> {
    const handler = this.router.handler(apiKey);
    const apiVersion = VERSIONS[apiKey];
    if (!handler || apiVersion === undefined || !this.router.supports(apiKey, apiVersion)) throw new ConsoleError(501, `this node does not serve API key ${apiKey} at the console's version`);
    const correlationId = ++this.correlationId;
    const log = this.ctx.logger;
    let requestLog: RequestContext['logger'] | undefined;
    const rc: RequestContext = {
      apiKey,
      apiVersion,
      correlationId,
      clientId: 'samsa-console',
      clientAddress: 'console',
      listenerName: CONSOLE_LISTENER,
      principal,
      get logger() {
        return (requestLog ??= log.child({ module: 'console', apiKey, apiVersion, correlationId, principal }));
      },
    };
    const response = await handler.handle(request as never, rc);
    if (response === NO_RESPONSE) throw new ConsoleError(500, 'the handler sent no response');
    return response as ApiMessages[K]['response'];
  }
}
