import { describe, expect, it } from 'vitest';
import { escapeRfc2253, rfc2253FromNodeSubject } from './distinguished-name.ts';
import { InvalidMappingRuleError, NoMatchingRuleError, SslPrincipalMapper } from './principal-mapping.ts';

describe('ssl.principal.mapping.rules', () => {
  it('applies DEFAULT and Kafka documentation rules', () => {
    expect(new SslPrincipalMapper('DEFAULT').getName('CN=alice,OU=eng,O=Acme,C=US')).toBe('CN=alice,OU=eng,O=Acme,C=US');
    const rules = 'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L,DEFAULT';
    const m = new SslPrincipalMapper(rules);
    expect(m.getName('CN=kafka-broker1,OU=ServiceUsers,O=Acme,C=US')).toBe('kafka-broker1');
    expect(m.getName('CN=Duke,OU=JavaSoft,O=Sun Microsystems,L=Palo Alto,ST=CA,C=US')).toBe('duke@javasoft');
    expect(m.getName('OU=x,CN=Admin.User')).toBe('admin.user');
    expect(m.getName('O=no-cn')).toBe('O=no-cn');
  });

  it('upper-cases with /U, keeps escaped slashes and out-of-range references literal', () => {
    expect(new SslPrincipalMapper('RULE:^CN=([^,]*).*$/$1/U').getName('CN=alice,O=x')).toBe('ALICE');
    expect(new SslPrincipalMapper('RULE:^CN=([^,]*),O=a\\/b$/$1-\\/$2/').getName('CN=alice,O=a/b')).toBe('alice-/$2');
    expect(new SslPrincipalMapper(' RULE:^CN=(.*)$/$1/ ,\n DEFAULT ').getName('CN=bob')).toBe('bob');
  });

  it('fails authentication when no rule matches, and refuses malformed rules', () => {
    expect(() => new SslPrincipalMapper('RULE:^CN=(.*)$/$1/').getName('O=x')).toThrow(NoMatchingRuleError);
    expect(() => new SslPrincipalMapper('RULE:^CN=(.*)$/$1')).toThrow(InvalidMappingRuleError);
    expect(() => new SslPrincipalMapper('DEFAULT,garbage')).toThrow(InvalidMappingRuleError);
    expect(() => new SslPrincipalMapper('RULE:(/x/')).toThrow(InvalidMappingRuleError);
  });
});

describe('RFC 2253 subjects', () => {
  it('reverses the RDNs and escapes as Java prints them', () => {
    expect(rfc2253FromNodeSubject('C=US\nST=CA\nO=Acme\\, Inc.\nOU=eng\nCN=alice')).toBe('CN=alice,OU=eng,O=Acme\\, Inc.,ST=CA,C=US');
    expect(rfc2253FromNodeSubject('CN=a\nemailAddress=a@b.c')).toBe('1.2.840.113549.1.9.1=#16056140622e63,CN=a');
    expect(escapeRfc2253('#x+y ')).toBe('\\#x\\+y\\ ');
  });
});
