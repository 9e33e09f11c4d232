// SaslAuthenticate (key 36), v0-v2: one SASL token of the exchange the handshake chose, answered
// with the mechanism's challenge. A failed exchange gets SASL_AUTHENTICATION_FAILED with the
// reason and the connection is closed after the answer. v1+ answers carry session_lifetime_ms
// (connections.max.reauth.ms, KIP-368). Outside a SASL listener: ILLEGAL_SASL_STATE.
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import { defineHandler } from './api-handler.ts';

export function saslAuthenticateHandler() {
  return defineHandler({
    apiKey: ApiKey.SaslAuthenticate,
    handle(req, rc) {
      if (!rc.sasl) return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, errorMessage: 'SaslAuthenticate request received on a listener without SASL', authBytes: Buffer.alloc(0), sessionLifetimeMs: 0n };
      const answer = rc.sasl.authenticate(req.authBytes, rc.apiVersion);
      if (answer.errorCode !== ErrorCode.NONE) rc.logger.info({ mechanism: rc.sasl.mechanismInUse, errorCode: answer.errorCode, reason: answer.errorMessage }, 'SASL authentication failed');
      else if (rc.sasl.state === 'authenticated') rc.logger.debug({ mechanism: rc.sasl.mechanismInUse, principal: rc.sasl.principal }, 'SASL authentication succeeded');
      return answer;
    },
    errorResponse: (_req, err) => ({ errorCode: err.errorCode, errorMessage: err.message, authBytes: Buffer.alloc(0), sessionLifetimeMs: 0n }),
  });
}
