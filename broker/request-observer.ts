// What the network layer reports about its work, for metrics and the like. The connection calls
// these synchronously at each step of a request's life; an observer must be cheap and must not
// throw (a throw is contained to the connection, like any other failure in its events).
// Times are `process.hrtime.bigint()` readings, in nanoseconds.

export interface RequestTimings {
  listenerName: string;
  apiKey: number;
  apiVersion: number;
  /** Bytes of the request frame, without its size prefix. */
  requestBytes: number;
  /** Bytes of the response frames written, 0 when there is no response (acks=0). */
  responseBytes: number;
  /** The decoded response object given to the encoder, or null when there is none. */
  response: unknown;
  /** Whether the handler threw (the error response was sent instead). */
  failed: boolean;
  /** The frame was cut from the socket's bytes. */
  receivedNs: bigint;
  /** The handler was called (after header and body decoding). */
  startedNs: bigint;
  /** The handler's answer was ready and encoded. */
  completedNs: bigint;
  /** Of the handler's time, how long it waited in purgatories (acks=all, long polls, rebalances). */
  remoteNs: bigint;
  /** The answer was handed to the socket (it waited for earlier answers of the same connection); 0 until then. */
  sentNs: bigint;
  /** The socket took the answer's last byte (written to the kernel); equals sentNs when there is no answer. */
  sendCompletedNs: bigint;
}

export interface RequestObserver {
  connectionOpened?(listenerName: string): void;
  connectionClosed?(listenerName: string): void;
  /** A connection refused before it was served (connection limits). */
  connectionRefused?(listenerName: string, reason: string): void;
  requestCompleted?(t: RequestTimings): void;
}
