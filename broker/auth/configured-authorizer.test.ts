import { describe, expect, it } from 'vitest';
import { parseBrokerConfig } from '../config/broker-config.ts';
import { ConfigError } from '../config/config-error.ts';
import { AclOperation, PatternType, PermissionType, ResourceType } from './acl.ts';
import { configuredAuthorizer } from './configured-authorizer.ts';

const COMBINED: Record<string, string> = {
  'process.roles': 'broker,controller',
  'node.id': '1',
  'controller.quorum.voters': '1@localhost:9093',
  'listeners': 'PLAINTEXT://:9092,CONTROLLER://:9093',
  'controller.listener.names': 'CONTROLLER',
  'log.dirs': '/tmp/samsa-unused',
};

const problems = (props: Record<string, string>): string[] => {
  try {
    parseBrokerConfig(props);
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.map((p) => `${p.key}: ${p.message}`);
  }
};

describe('authorizer.class.name', () => {
  it('no authorizer by default: everything is allowed', () => {
    expect(configuredAuthorizer(parseBrokerConfig(COMBINED), () => undefined)).toBeUndefined();
  });

  it('StandardAuthorizer with super.users and allow.everyone.if.no.acl.found', () => {
    const acl = { id: 'x', resourceType: ResourceType.TOPIC, resourceName: 'open', patternType: PatternType.LITERAL, principal: 'User:bob', host: '*', operation: AclOperation.READ, permissionType: PermissionType.ALLOW };
    const config = parseBrokerConfig({ ...COMBINED, 'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer', 'super.users': 'User:admin;User:ANONYMOUS', 'allow.everyone.if.no.acl.found': 'true' });
    const a = configuredAuthorizer(config, () => new Map([['x', acl]]))!;
    expect(a.isSuperUser('User:admin')).toBe(true);
    expect(a.isSuperUser('User:ANONYMOUS')).toBe(true);
    expect(a.authorize({ principal: 'User:alice', host: '1.2.3.4' }, AclOperation.WRITE, ResourceType.TOPIC, 'nobody-covers-it')).toBe(true);
    expect(a.authorize({ principal: 'User:alice', host: '1.2.3.4' }, AclOperation.READ, ResourceType.TOPIC, 'open')).toBe(false);
    expect(configuredAuthorizer(parseBrokerConfig({ ...COMBINED, 'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer' }), () => undefined)!.authorize({ principal: 'User:alice', host: 'h' }, AclOperation.READ, ResourceType.TOPIC, 't')).toBe(false);
  });

  it('the ZooKeeper AclAuthorizer and other classes are refused, saying why', () => {
    expect(problems({ ...COMBINED, 'authorizer.class.name': 'kafka.security.authorizer.AclAuthorizer' })).toEqual([
      'authorizer.class.name: kafka.security.authorizer.AclAuthorizer keeps ACLs in ZooKeeper, which KRaft mode does not have: use org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    ]);
    expect(problems({ ...COMBINED, 'authorizer.class.name': 'com.example.MyAuthorizer' })[0]).toContain('must be org.apache.kafka.metadata.authorizer.StandardAuthorizer or empty');
  });
});
