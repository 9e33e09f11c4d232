import { describe, expect, it } from 'vitest';
import { parseBrokerConfig } from '../config/broker-config.ts';
import { listenerValues } from './listener-config.ts';
import { keyStoreOptions, opensslCipherName, protocolRange, TlsConfigError, tlsServerSettings, trustStoreCertificates } from './tls.ts';

const BASE = {
  'process.roles': 'broker,controller',
  'node.id': '1',
  'controller.quorum.voters': '1@localhost:9093',
  'listeners': 'SSL://:9094,SASL_SSL://:9095,PLAINTEXT://:9092,CONTROLLER://:9093',
  'controller.listener.names': 'CONTROLLER',
  'listener.security.protocol.map': 'SSL:SSL,SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
  'sasl.enabled.mechanisms': 'PLAIN',
};

describe('TLS settings', () => {
  it("maps Kafka's IANA cipher suite names to OpenSSL's", () => {
    expect(opensslCipherName('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256')).toBe('ECDHE-RSA-AES128-GCM-SHA256');
    expect(opensslCipherName('TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384')).toBe('ECDHE-ECDSA-AES256-GCM-SHA384');
    expect(opensslCipherName('TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256')).toBe('ECDHE-RSA-CHACHA20-POLY1305');
    expect(opensslCipherName('TLS_RSA_WITH_AES_128_CBC_SHA')).toBe('AES128-SHA');
    expect(opensslCipherName('TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384')).toBe('ECDHE-RSA-AES256-SHA384');
    expect(opensslCipherName('TLS_AES_128_GCM_SHA256')).toBe('TLS_AES_128_GCM_SHA256');
    expect(opensslCipherName('ECDHE-RSA-AES128-GCM-SHA256')).toBe('ECDHE-RSA-AES128-GCM-SHA256');
  });

  it('bounds the TLS versions by ssl.enabled.protocols', () => {
    expect(protocolRange(['TLSv1.3', 'TLSv1.2'])).toEqual({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
    expect(protocolRange(['TLSv1.3'])).toEqual({ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' });
    expect(() => protocolRange(['SSLv3'])).toThrow(TlsConfigError);
    expect(() => protocolRange([])).toThrow(TlsConfigError);
  });

  it('takes inline PEM per listener, refuses JKS and a listener without a key store', () => {
    const c = parseBrokerConfig({ ...BASE, 'listener.name.ssl.ssl.keystore.type': 'PEM', 'listener.name.ssl.ssl.keystore.certificate.chain': 'CHAIN', 'listener.name.ssl.ssl.keystore.key': 'KEY', 'listener.name.sasl_ssl.ssl.keystore.location': '/x.jks', 'ssl.client.auth': 'required' });
    const ssl = listenerValues(c, 'SSL');
    expect(keyStoreOptions(ssl)).toEqual({ cert: 'CHAIN', key: 'KEY', passphrase: undefined });
    expect(trustStoreCertificates(ssl)).toBeUndefined();
    const settings = tlsServerSettings(ssl, undefined, false);
    expect(settings.clientAuth).toBe('required');
    expect(settings.options.requestCert).toBe(true);
    expect(() => keyStoreOptions(listenerValues(c, 'SASL_SSL'))).toThrow(/ssl.keystore.type JKS is not supported/);
    const none = parseBrokerConfig({ ...BASE, 'ssl.keystore.type': 'PKCS12' });
    expect(() => keyStoreOptions(listenerValues(none, 'SSL'))).toThrow(/A TLS listener needs a key store/);
    const sasl = parseBrokerConfig({ ...BASE, 'ssl.keystore.type': 'PEM', 'ssl.keystore.certificate.chain': 'C', 'ssl.keystore.key': 'K', 'ssl.client.auth': 'required' });
    // The plain ssl.client.auth does not apply to SASL_SSL listeners, as in Kafka.
    expect(tlsServerSettings(listenerValues(sasl, 'SASL_SSL'), undefined, true).clientAuth).toBe('none');
    expect(tlsServerSettings(listenerValues(sasl, 'SASL_SSL'), 'requested', true).clientAuth).toBe('requested');
  });

  it('lets a dynamic config win over the static one', () => {
    const c = parseBrokerConfig({ ...BASE, 'listener.name.ssl.ssl.keystore.location': '/static.p12' });
    const get = listenerValues(c, 'SSL', new Map([['listener.name.ssl.ssl.keystore.location', '/dynamic.p12']]));
    expect(get('ssl.keystore.location')).toBe('/dynamic.p12');
    expect(listenerValues(c, 'SSL')('ssl.keystore.location')).toBe('/static.p12');
  });
});
