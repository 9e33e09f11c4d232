import { describe, expect, it } from 'vitest';
import { JaasConfigError, parseJaasConfig, plainUsers } from './jaas.ts';

describe('JAAS config', () => {
  it('parses a PlainLoginModule with its users', () => {
    const m = parseJaasConfig('org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice secret; with \\"quotes\\"";');
    expect(m.loginModule).toBe('org.apache.kafka.common.security.plain.PlainLoginModule');
    expect(m.flag).toBe('required');
    expect(m.options.get('username')).toBe('admin');
    expect([...plainUsers(m)]).toEqual([
      ['admin', 'admin-secret'],
      ['alice', 'alice secret; with "quotes"'],
    ]);
  });

  it('takes unquoted values, other flags, comments and line breaks', () => {
    const m = parseJaasConfig('org.apache.kafka.common.security.scram.ScramLoginModule\n  optional /* note */ username=alice\n password=s3cret ;');
    expect(m.flag).toBe('optional');
    expect(m.options.get('username')).toBe('alice');
    expect(m.options.get('password')).toBe('s3cret');
  });

  it("refuses what Kafka refuses, with Kafka's messages", () => {
    expect(() => parseJaasConfig('a.B required x="1"')).toThrow('JAAS config entry not terminated by semi-colon');
    expect(() => parseJaasConfig('a.B x="1";')).toThrow('Login module control flag not specified in JAAS config');
    expect(() => parseJaasConfig('a.B required x=;')).toThrow("Value not specified for key 'x' in JAAS config");
    expect(() => parseJaasConfig('a.B required; c.D required;')).toThrow('JAAS config property contains 2 login modules, should be 1 module');
    expect(() => parseJaasConfig('')).toThrow(JaasConfigError);
    expect(() => parseJaasConfig('a.B required x="unterminated;')).toThrow(JaasConfigError);
  });
});
