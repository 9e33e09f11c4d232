import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyRecords } from '../../controller/metadata/delta.ts';
import { EMPTY_IMAGE, type MetadataImage } from '../../controller/metadata/image.ts';
import { imageFromRecords, imageRecords } from '../../controller/metadata/image-records.ts';
import { encodeMetadataRecord } from '../../controller/metadata/record-serde.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { AclOperation, bindingKey, PatternType, PermissionType, ResourceType } from './acl.ts';
import { createAcls, deleteAcls } from './acl-control.ts';

const creation = (o: Partial<Record<string, unknown>> = {}) => ({
  resourceType: ResourceType.TOPIC,
  resourceName: 't',
  resourcePatternType: PatternType.LITERAL,
  principal: 'User:alice',
  host: '*',
  operation: AclOperation.WRITE,
  permissionType: PermissionType.ALLOW,
  ...o,
});
const anyFilter = { resourceTypeFilter: ResourceType.ANY, resourceNameFilter: null, patternTypeFilter: PatternType.ANY, principalFilter: null, hostFilter: null, operation: AclOperation.ANY, permissionType: PermissionType.ANY };

let offset = 0n;
const commit = (image: MetadataImage, records: Parameters<typeof applyRecords>[1][number]['record'][]): MetadataImage => applyRecords(image, records.map((record) => ({ record, offset: offset++, epoch: 1 })));

describe('ACL control', () => {
  it('writes one record per new ACL, accepts duplicates once, refuses invalid ACLs with INVALID_REQUEST', () => {
    const { records, response } = createAcls(EMPTY_IMAGE, {
      creations: [
        creation(),
        creation(),
        creation({ resourceType: ResourceType.ANY }),
        creation({ resourcePatternType: PatternType.MATCH }),
        creation({ operation: AclOperation.ANY }),
        creation({ permissionType: PermissionType.ANY }),
        creation({ resourceName: '' }),
        creation({ principal: 'alice' }),
        creation({ resourceType: ResourceType.CLUSTER, resourceName: 'c' }),
        creation({ resourceType: ResourceType.CLUSTER, resourceName: 'kafka-cluster', operation: AclOperation.ALTER }),
      ] as never,
    });
    expect(response.results.map((r) => r.errorCode)).toEqual([0, 0, 42, 42, 42, 42, 42, 42, 42, 0]);
    expect(records).toHaveLength(2);
    const image = commit(EMPTY_IMAGE, records);
    expect(image.acls?.size).toBe(2);
    // Creating it again changes nothing.
    expect(createAcls(image, { creations: [creation()] as never }).records).toHaveLength(0);
  });

  it('deletes what filters match, reports every match, removes each ACL once; unknown filters are INVALID_REQUEST', () => {
    let image = commit(EMPTY_IMAGE, createAcls(EMPTY_IMAGE, { creations: [creation(), creation({ resourceName: 'u' }), creation({ resourceType: ResourceType.GROUP, resourceName: 'g', operation: AclOperation.READ })] as never }).records);
    const { records, response } = deleteAcls(image, {
      filters: [
        { ...anyFilter, resourceTypeFilter: ResourceType.TOPIC },
        { ...anyFilter, resourceTypeFilter: ResourceType.TOPIC, resourceNameFilter: 't', patternTypeFilter: PatternType.MATCH },
        { ...anyFilter, resourceTypeFilter: ResourceType.UNKNOWN },
        { ...anyFilter, operation: 99 },
      ],
    });
    expect(response.filterResults.map((r) => [r.errorCode, r.matchingAcls.length])).toEqual([[0, 2], [0, 1], [ErrorCode.INVALID_REQUEST, 0], [ErrorCode.INVALID_REQUEST, 0]]);
    expect(records).toHaveLength(2);
    image = commit(image, records);
    expect([...image.acls!.values()].map((a) => a.resourceName)).toEqual(['g']);
  });

  it('v0 requests (no pattern type) mean LITERAL', () => {
    const { records } = createAcls(EMPTY_IMAGE, { creations: [{ ...creation(), resourcePatternType: undefined }] as never });
    const image = commit(EMPTY_IMAGE, records);
    expect([...image.acls!.values()][0]!.patternType).toBe(PatternType.LITERAL);
    const { response } = deleteAcls(image, { filters: [{ ...anyFilter, resourceTypeFilter: ResourceType.TOPIC, resourceNameFilter: 't', patternTypeFilter: undefined }] });
    expect(response.filterResults[0]!.matchingAcls).toHaveLength(1);
  });

  it('a random run of creations and deletions keeps the image equal to a set of bindings, through snapshots', () => {
    const arbCreation = fc.record({
      resourceType: fc.constantFrom(ResourceType.TOPIC, ResourceType.GROUP),
      resourceName: fc.constantFrom('a', 'b', '*'),
      resourcePatternType: fc.constantFrom(PatternType.LITERAL, PatternType.PREFIXED),
      principal: fc.constantFrom('User:alice', 'User:*'),
      host: fc.constantFrom('*', '10.0.0.1'),
      operation: fc.constantFrom(AclOperation.READ, AclOperation.WRITE),
      permissionType: fc.constantFrom(PermissionType.ALLOW, PermissionType.DENY),
    });
    const arbStep = fc.oneof(
      fc.array(arbCreation, { maxLength: 4 }).map((creations) => ({ creations })),
      fc.record({ name: fc.constantFrom(null, 'a', 'b', '*'), type: fc.constantFrom(ResourceType.ANY, ResourceType.TOPIC) }).map((f) => ({ filter: { ...anyFilter, resourceTypeFilter: f.type, resourceNameFilter: f.name } })),
    );
    fc.assert(
      fc.property(fc.array(arbStep, { maxLength: 12 }), (steps) => {
        let image = EMPTY_IMAGE;
        const model = new Set<string>();
        for (const step of steps) {
          if ('creations' in step) {
            const r = createAcls(image, step);
            image = commit(image, r.records);
            for (const c of step.creations) model.add(bindingKey({ ...c, patternType: c.resourcePatternType }));
          } else {
            const r = deleteAcls(image, { filters: [step.filter] });
            image = commit(image, r.records);
            for (const m of r.response.filterResults[0]!.matchingAcls) model.delete(bindingKey(m as never));
          }
          expect(new Set([...(image.acls?.values() ?? [])].map(bindingKey))).toEqual(model);
        }
        const rebuilt = imageFromRecords(imageRecords(image).map(encodeMetadataRecord), image.offset, 1);
        expect(rebuilt.acls ?? new Map()).toEqual(image.acls ?? new Map());
      }),
      { numRuns: 300 },
    );
  });
});
