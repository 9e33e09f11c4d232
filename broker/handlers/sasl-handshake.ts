// SaslHandshake (key 17), v0-v1. On a SASL listener the connection's SaslSession chooses the
// mechanism (UNSUPPORTED_SASL_MECHANISM with the enabled list, then a close, when it is not
// enabled). v0 means the client sends raw SASL tokens next; v1 means SaslAuthenticate requests.
// A handshake on an authenticated connection starts re-authentication (KIP-368). Elsewhere (a
// PLAINTEXT or SSL listener) it is answered ILLEGAL_SASL_STATE, as Kafka's request handler does.
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { defineHandler } from './api-handler.ts';

export function saslHandshakeHandler() {
  return defineHandler({
    apiKey: ApiKey.SaslHandshake,
    handle(req, rc) {
      if (!rc.sasl) return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] };
      const answer = rc.sasl.handshake(req.mechanism, rc.apiVersion);
      if (answer.errorCode !== ErrorCode.NONE) rc.logger.info({ mechanism: req.mechanism, errorCode: answer.errorCode }, 'SASL handshake refused');
      return answer;
    },
    errorResponse: (_req, err) => ({ errorCode: err.errorCode, mechanisms: [] }),
  });
}
