// The authorizer a broker's configuration asks for: StandardAuthorizer when authorizer.class.name
// names it (super.users and allow.everyone.if.no.acl.found configure it), else none, and every
// request is allowed, as in Kafka without an authorizer.
import type { AclImage } from '../../controller/metadata/image.ts';
import { type BrokerConfig, STANDARD_AUTHORIZER } from '../config/broker-config.ts';
import { parseSuperUsers, StandardAuthorizer } from './authorizer.ts';

export function configuredAuthorizer(config: BrokerConfig, acls: () => ReadonlyMap<string, AclImage> | undefined): StandardAuthorizer | undefined {
  if (config.get('authorizer.class.name') !== STANDARD_AUTHORIZER) return undefined;
  return new StandardAuthorizer({ superUsers: parseSuperUsers(config.get('super.users')), allowEveryoneIfNoAclFound: config.get('allow.everyone.if.no.acl.found'), acls });
}
