// ACL changes as the active controller makes them (Kafka's AclControlManager): each valid new ACL
// becomes an AccessControlEntryRecord with a fresh UUID (an ACL equal to one in force, or to one
// earlier in the same request, is accepted and written once); each DeleteAcls filter removes
// every ACL it matches with a RemoveAccessControlEntryRecord (an ACL two filters match is
// reported by both and removed once). Invalid ACLs and filters get INVALID_REQUEST per item.
import type { ControllerResult } from '../../controller/controller-result.ts';
import type { MetadataImage } from '../../controller/metadata/image.ts';
import { type MetadataRecord, record } from '../../controller/metadata/record-serde.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import type { CreateAclsRequest } from '../../protocol/generated/message/create-acls-request.ts';
import type { CreateAclsResponse } from '../../protocol/generated/message/create-acls-response.ts';
import type { DeleteAclsRequest } from '../../protocol/generated/message/delete-acls-request.ts';
import type { DeleteAclsResponse } from '../../protocol/generated/message/delete-acls-response.ts';
import { MetadataRecordType } from '../../protocol/generated/metadata-records.ts';
import { randomUuid } from '../../protocol/uuid.ts';
import { type AclBinding, type AclBindingFilter, bindingKey, filterMatches, invalidFilter, invalidNewAcl, PatternType } from './acl.ts';

type CreateAclsRequestCreation = CreateAclsRequest['creations'][number];
type DeleteAclsRequestFilter = DeleteAclsRequest['filters'][number];

export function bindingOfCreation(c: CreateAclsRequestCreation): AclBinding {
  return { resourceType: c.resourceType, resourceName: c.resourceName, patternType: c.resourcePatternType ?? PatternType.LITERAL, principal: c.principal, host: c.host, operation: c.operation, permissionType: c.permissionType };
}

/** A DescribeAcls or DeleteAcls filter; v0 has no pattern type and means LITERAL. */
export function filterOf(f: Omit<DeleteAclsRequestFilter, '_unknownTaggedFields'>): AclBindingFilter {
  return { resourceType: f.resourceTypeFilter, resourceName: f.resourceNameFilter, patternType: f.patternTypeFilter ?? PatternType.LITERAL, principal: f.principalFilter, host: f.hostFilter, operation: f.operation, permissionType: f.permissionType };
}

export function createAcls(image: MetadataImage, req: CreateAclsRequest, newId: () => string = randomUuid): ControllerResult<CreateAclsResponse> {
  const existing = new Set([...(image.acls?.values() ?? [])].map(bindingKey));
  const records: MetadataRecord[] = [];
  const results = req.creations.map((c) => {
    const binding = bindingOfCreation(c);
    const invalid = invalidNewAcl(binding);
    if (invalid !== null) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: invalid };
    const key = bindingKey(binding);
    if (!existing.has(key)) {
      existing.add(key);
      records.push(record(MetadataRecordType.AccessControlEntryRecord, { id: newId(), ...binding }));
    }
    return { errorCode: ErrorCode.NONE, errorMessage: null };
  });
  return { records, response: { throttleTimeMs: 0, results } };
}

export function deleteAcls(image: MetadataImage, req: DeleteAclsRequest): ControllerResult<DeleteAclsResponse> {
  const removed = new Set<string>();
  const records: MetadataRecord[] = [];
  const acls = [...(image.acls?.values() ?? [])];
  const filterResults = req.filters.map((f) => {
    const filter = filterOf(f);
    const invalid = invalidFilter(filter);
    if (invalid !== null) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: invalid, matchingAcls: [] };
    const matchingAcls = [];
    for (const acl of acls) {
      if (!filterMatches(filter, acl)) continue;
      if (!removed.has(acl.id)) {
        removed.add(acl.id);
        records.push(record(MetadataRecordType.RemoveAccessControlEntryRecord, { id: acl.id }));
      }
      const { id: _id, ...binding } = acl;
      matchingAcls.push({ errorCode: ErrorCode.NONE, errorMessage: null, ...binding });
    }
    return { errorCode: ErrorCode.NONE, errorMessage: null, matchingAcls };
  });
  return { records, response: { throttleTimeMs: 0, filterResults } };
}
