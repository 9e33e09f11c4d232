import { describe, expect, it } from 'vitest';
import { AclOperation, PatternType, PermissionType, ResourceType } from '../auth/acl.ts';
import { securityFromProperties } from './acls-connection.ts';
import { aclsCommand, formatEntry, formatPattern, parseOperation, requestedAcls } from './acls.ts';
import { CliError } from './command-io.ts';

describe('samsa acls', () => {
  it('takes operation names as kafka-acls.sh does', () => {
    expect(parseOperation('Write')).toBe(AclOperation.WRITE);
    expect(parseOperation('ClusterAction')).toBe(AclOperation.CLUSTER_ACTION);
    expect(parseOperation('IDEMPOTENT_WRITE')).toBe(AclOperation.IDEMPOTENT_WRITE);
    expect(parseOperation('all')).toBe(AclOperation.ALL);
    expect(() => parseOperation('Any')).toThrow(CliError);
    expect(() => parseOperation('Fly')).toThrow(CliError);
  });

  it('prints patterns and entries as kafka-acls.sh does', () => {
    expect(formatPattern({ resourceType: ResourceType.TOPIC, resourceName: 't', patternType: PatternType.LITERAL })).toBe('ResourcePattern(resourceType=TOPIC, name=t, patternType=LITERAL)');
    expect(formatEntry({ principal: 'User:alice', host: '*', operation: AclOperation.WRITE, permissionType: PermissionType.ALLOW })).toBe('(principal=User:alice, host=*, operation=WRITE, permissionType=ALLOW)');
  });

  it('expands principals, hosts and operations per resource; hosts default to *', () => {
    const m = requestedAcls({ allowPrincipal: ['User:a', 'User:b'], denyPrincipal: ['User:c'], denyHost: ['10.0.0.1'], operation: ['Read', 'Write'], topic: ['t'], group: ['g'] }, PatternType.PREFIXED);
    expect([...m.keys()]).toEqual(['ResourcePattern(resourceType=TOPIC, name=t, patternType=PREFIXED)', 'ResourcePattern(resourceType=GROUP, name=g, patternType=PREFIXED)']);
    const t = [...m.values()][0]!.entries;
    expect(t).toHaveLength(6);
    expect(t.filter((e) => e.permissionType === PermissionType.DENY).every((e) => e.host === '10.0.0.1')).toBe(true);
    expect(t.filter((e) => e.permissionType === PermissionType.ALLOW).every((e) => e.host === '*')).toBe(true);
  });

  it('--producer and --consumer expand as Kafka does', () => {
    const p = requestedAcls({ allowPrincipal: ['User:a'], producer: true, idempotent: true, topic: ['t'], transactionalId: ['x'] }, PatternType.LITERAL);
    const ops = (key: string) => p.get(key)!.entries.map((e) => e.operation).sort();
    expect(ops('ResourcePattern(resourceType=TOPIC, name=t, patternType=LITERAL)')).toEqual([AclOperation.WRITE, AclOperation.CREATE, AclOperation.DESCRIBE].sort());
    expect(ops('ResourcePattern(resourceType=TRANSACTIONAL_ID, name=x, patternType=LITERAL)')).toEqual([AclOperation.WRITE, AclOperation.DESCRIBE].sort());
    expect(ops('ResourcePattern(resourceType=CLUSTER, name=kafka-cluster, patternType=LITERAL)')).toEqual([AclOperation.IDEMPOTENT_WRITE]);
    const c = requestedAcls({ allowPrincipal: ['User:a'], consumer: true, topic: ['t'], group: ['g'] }, PatternType.LITERAL);
    expect(c.get('ResourcePattern(resourceType=GROUP, name=g, patternType=LITERAL)')!.entries.map((e) => e.operation)).toEqual([AclOperation.READ]);
    expect(() => requestedAcls({ allowPrincipal: ['User:a'], consumer: true, topic: ['t'] }, PatternType.LITERAL)).toThrow('With --consumer you must specify a --group');
    expect(() => requestedAcls({ allowPrincipal: ['alice'], operation: ['Read'], topic: ['t'] }, PatternType.LITERAL)).toThrow('Invalid principal');
  });

  it('reads SASL PLAIN credentials from --command-config properties and refuses what it cannot do', () => {
    expect(securityFromProperties({ 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'PLAIN', 'sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="s3cret";' })).toEqual({ protocol: 'SASL_PLAINTEXT', mechanism: 'PLAIN', username: 'admin', password: 's3cret' });
    expect(securityFromProperties({ 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'SCRAM-SHA-512', 'sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="pw";' })).toMatchObject({ protocol: 'SASL_SSL', mechanism: 'SCRAM-SHA-512', username: 'alice' });
    expect(securityFromProperties({})).toEqual({ protocol: 'PLAINTEXT' });
    expect(() => securityFromProperties({ 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'OAUTHBEARER', 'sasl.jaas.config': 'x' })).toThrow('not supported');
  });

  it('needs exactly one action and refuses ANY/MATCH patterns for --add, without connecting', async () => {
    const run = async (args: string[]) => {
      const out: string[] = [];
      let code = 0;
      await aclsCommand({ out: (s) => out.push(s), err: (s) => out.push(s), fail: (c) => (code = c) }).parseAsync(args, { from: 'user' });
      return { code, text: out.join('') };
    };
    expect(await run(['--bootstrap-server', '127.0.0.1:1', '--add', '--list'])).toEqual({ code: 1, text: 'Command must include exactly one action: --list, --add, --remove.\n' });
    expect((await run(['--bootstrap-server', '127.0.0.1:1', '--add', '--resource-pattern-type', 'match', '--allow-principal', 'User:a', '--operation', 'Read', '--topic', 't'])).text).toContain("'MATCH' is not valid when adding acls");
  });
});
