// What one listener needs to secure its connections, built from the broker configuration:
// TLS server settings (SSL, SASL_SSL), the certificate principal mapper (SSL), and the SASL
// settings (SASL_PLAINTEXT, SASL_SSL). Built once at start; a bad setting fails the start with
// the listener named.
import type { BrokerConfig } from '../config/broker-config.ts';
import { type Listener, listenerOverrideKey, type SecurityProtocol } from '../config/listeners.ts';
import { parseJaasConfig, plainUsers } from './jaas.ts';
import type { Logger } from 'pino';
import type { Scheduler } from '../../protocol/scheduler.ts';
import { DEFAULT_OAUTHBEARER_OPTIONS, type OAuthBearerOptions, oauthBearerOptions } from './oauthbearer.ts';
import { sharedJwksSource, VALIDATOR_CALLBACK_HANDLER_CLASSES, validateJwt } from './oauthbearer-jwks.ts';
import { listenerValues } from './listener-config.ts';
import { SslPrincipalMapper } from './principal-mapping.ts';
import type { SaslListenerConfig } from './sasl-session.ts';
import type { ScramCredential } from './scram.ts';
import { type TlsServerSettings, tlsServerSettings } from './tls.ts';

export const ANONYMOUS = 'User:ANONYMOUS';
export const SUPPORTED_SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'];

export interface ListenerSecurity {
  protocol: SecurityProtocol;
  tls: TlsServerSettings | null;
  /** Maps a client certificate's subject to a short name (SSL listeners). */
  principalMapper: SslPrincipalMapper | null;
  sasl: SaslListenerConfig | null;
}

export class ListenerSecurityError extends Error {
  readonly code = 'INVALID_LISTENER_SECURITY';
}

export interface SecurityDeps {
  scramCredential(mechanism: string, user: string): ScramCredential | undefined;
  now(): number;
  /** Per-broker dynamic configs (listener.name.X.ssl.keystore.* and the like). */
  dynamic?: ReadonlyMap<string, string>;
  /** Runs the JWKS refresh of OAUTHBEARER's validator, and logs it (defaults when absent). */
  scheduler?: Scheduler;
  logger?: Logger;
}

export function listenerSecurity(config: BrokerConfig, listener: Listener, deps: SecurityDeps): ListenerSecurity {
  const protocol = listener.securityProtocol;
  const get = listenerValues(config, listener.name, deps.dynamic);
  const wrap = <T>(what: string, f: () => T): T => {
    try {
      return f();
    } catch (err) {
      throw new ListenerSecurityError(`Listener ${listener.name} (${protocol}): ${what}: ${(err as Error).message}`, { cause: err });
    }
  };
  const usesTls = protocol === 'SSL' || protocol === 'SASL_SSL';
  const usesSasl = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';
  const prefixedClientAuth = deps.dynamic?.get(listenerOverrideKey(listener.name, 'ssl.client.auth')) ?? config.originals[listenerOverrideKey(listener.name, 'ssl.client.auth')];
  const tls = usesTls ? wrap('TLS', () => tlsServerSettings(get, prefixedClientAuth, usesSasl)) : null;
  const principalMapper = protocol === 'SSL' ? wrap('ssl.principal.mapping.rules', () => new SslPrincipalMapper(get('ssl.principal.mapping.rules'))) : null;
  let sasl: SaslListenerConfig | null = null;
  if (usesSasl) {
    const mechanisms = get('sasl.enabled.mechanisms');
    const unsupported = mechanisms.filter((m) => !SUPPORTED_SASL_MECHANISMS.includes(m));
    if (unsupported.length > 0) throw new ListenerSecurityError(`Listener ${listener.name}: SASL mechanism ${unsupported.join(', ')} is not supported (supported: ${SUPPORTED_SASL_MECHANISMS.join(', ')})`);
    let users: Map<string, string> | null = null;
    if (mechanisms.includes('PLAIN')) {
      const jaas = get('sasl.jaas.config', 'PLAIN');
      if (jaas === null) throw new ListenerSecurityError(`Listener ${listener.name}: PLAIN is enabled but no JAAS config is set: set ${listenerOverrideKey(listener.name, 'sasl.jaas.config', 'plain')}`);
      users = wrap('PLAIN JAAS config', () => plainUsers(parseJaasConfig(jaas)));
    }
    let oauthBearer: OAuthBearerOptions | null = null;
    if (mechanisms.includes('OAUTHBEARER')) {
      const handler = get('sasl.server.callback.handler.class', 'OAUTHBEARER');
      if (handler !== null && !VALIDATOR_CALLBACK_HANDLER_CLASSES.includes(handler)) throw new ListenerSecurityError(`Listener ${listener.name}: sasl.server.callback.handler.class ${handler} cannot be loaded: OAUTHBEARER validates unsecured tokens, or signed ones with ${VALIDATOR_CALLBACK_HANDLER_CLASSES[0]}`);
      const jaas = get('sasl.jaas.config', 'OAUTHBEARER');
      oauthBearer = jaas === null ? DEFAULT_OAUTHBEARER_OPTIONS : wrap('OAUTHBEARER JAAS config', () => oauthBearerOptions(parseJaasConfig(jaas).options));
      if (handler !== null) oauthBearer = { ...oauthBearer, validate: wrap('OAUTHBEARER JWKS', () => jwtValidator(get, deps)) };
    }
    sasl = { mechanisms, plainUsers: users, oauthBearer, scramCredential: deps.scramCredential, maxReauthMs: config.get('connections.max.reauth.ms'), maxReceiveSize: config.get('sasl.server.max.receive.size'), now: deps.now };
  }
  return { protocol, tls, principalMapper, sasl };
}

/** OAuthBearerValidatorCallbackHandler's checks, with the listener's (or the broker's) sasl.oauthbearer.* settings. */
function jwtValidator(get: ReturnType<typeof listenerValues>, deps: SecurityDeps): NonNullable<OAuthBearerOptions['validate']> {
  const url = get('sasl.oauthbearer.jwks.endpoint.url', 'OAUTHBEARER');
  if (url === null) throw new Error('sasl.oauthbearer.jwks.endpoint.url must be set for OAuthBearerValidatorCallbackHandler');
  const keys = sharedJwksSource(
    { url, refreshMs: get('sasl.oauthbearer.jwks.endpoint.refresh.ms', 'OAUTHBEARER'), retryBackoffMs: get('sasl.oauthbearer.jwks.endpoint.retry.backoff.ms', 'OAUTHBEARER'), retryBackoffMaxMs: get('sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms', 'OAUTHBEARER') },
    deps.scheduler,
    deps.logger,
  );
  const opts = {
    expectedAudience: get('sasl.oauthbearer.expected.audience', 'OAUTHBEARER'),
    expectedIssuer: get('sasl.oauthbearer.expected.issuer', 'OAUTHBEARER'),
    clockSkewMs: get('sasl.oauthbearer.clock.skew.seconds', 'OAUTHBEARER') * 1000,
    scopeClaimName: get('sasl.oauthbearer.scope.claim.name', 'OAUTHBEARER'),
    subClaimName: get('sasl.oauthbearer.sub.claim.name', 'OAUTHBEARER'),
  };
  return (token, nowMs) => validateJwt(token, keys, opts, nowMs);
}
