// Failures of the transport under a request, as opposed to a protocol outcome (KafkaError) that a
// broker put in a response. Every one of them means the request's fate is unknown and the
// connection is gone, so, as in Kafka's clients (NetworkException, TimeoutException), they are
// retriable after reconnecting and refreshing metadata.

export type ConnectionErrorCode =
  | 'CONNECT_FAILED' // the TCP connect was refused or failed
  | 'CONNECT_TIMEOUT' // no connection within connectTimeoutMs
  | 'REQUEST_TIMEOUT' // no response within the request's timeout; the connection is closed
  | 'CONNECTION_CLOSED' // closed by the peer, by close(), or because of another failure
  | 'CORRELATION_MISMATCH' // a response answered something other than the oldest request
  | 'MALFORMED_RESPONSE'; // a response frame could not be cut or decoded

export class ConnectionError extends Error {
  readonly code: ConnectionErrorCode;
  /** host:port of the peer. */
  readonly broker: string;
  readonly retriable = true;

  constructor(code: ConnectionErrorCode, broker: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConnectionError';
    this.code = code;
    this.broker = broker;
  }
}

/** A connect or a request that outlived its timeout. */
export class TimeoutError extends ConnectionError {
  readonly timeoutMs: number;

  constructor(code: 'CONNECT_TIMEOUT' | 'REQUEST_TIMEOUT', broker: string, timeoutMs: number, message: string) {
    super(code, broker, message);
    this.name = 'TimeoutError';
    this.timeoutMs = timeoutMs;
  }
}
