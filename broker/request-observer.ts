// What the network layer reports about its work, for metrics and the like. The connection calls
// these synchronously at each step of a request's life; an observer must be cheap and must not
// throw (a throw is contained to the connection, like any other failure in its events).
// Times are `performance.now()` readings, in milliseconds: plain numbers, so that timing a
// request allocates nothing a BigInt would.

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
  receivedMs: number;
  /** The handler was called (after header and body decoding). */
  startedMs: number;
  /** The handler's answer was ready and encoded. */
  completedMs: number;
  /** Of the handler's time, how long it waited in purgatories (acks=all, long polls, rebalances). */
  remoteMs: number;
  /** The answer was handed to the socket (it waited for earlier answers of the same connection); 0 until then. */
  sentMs: number;
  /** The socket took the answer's last byte (written to the kernel); equals sentMs when there is no answer. */
  sendCompletedMs: number;
}

export interface RequestObserver {
  connectionOpened?(listenerName: string): void;
  connectionClosed?(listenerName: string): void;
  /** A connection refused before it was served (connection limits). */
  connectionRefused?(listenerName: string, reason: string): void;
  requestCompleted?(t: RequestTimings): void;
}
