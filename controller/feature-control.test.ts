import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../protocol/errors.ts';
import { MetadataRecordType } from '../protocol/generated/metadata-records.ts';
import { updateFeatures, UpgradeType } from './feature-control.ts';
import { EMPTY_IMAGE, type MetadataImage } from './metadata/image.ts';

const SUPPORTED = new Map([
  ['metadata.version', { min: 1, max: 21 }],
  ['kraft.version', { min: 0, max: 1 }],
]);
const image: MetadataImage = { ...EMPTY_IMAGE, features: new Map([['metadata.version', 20]]) };

describe('updateFeatures', () => {
  it('raises metadata.version with one FeatureLevelRecord', () => {
    const r = updateFeatures(image, [{ feature: 'metadata.version', maxVersionLevel: 21, upgradeType: UpgradeType.UPGRADE }], SUPPORTED, false);
    expect(r.response.errorCode).toBe(ErrorCode.NONE);
    expect(r.records).toHaveLength(1);
    expect(r.records[0]!.type).toBe(MetadataRecordType.FeatureLevelRecord);
  });

  it('writes nothing for validateOnly or an unchanged level', () => {
    expect(updateFeatures(image, [{ feature: 'metadata.version', maxVersionLevel: 21, upgradeType: 1 }], SUPPORTED, true).records).toEqual([]);
    expect(updateFeatures(image, [{ feature: 'metadata.version', maxVersionLevel: 20, upgradeType: 1 }], SUPPORTED, false).records).toEqual([]);
  });

  it('refuses the whole request when one feature is refused: unknown, beyond the range, downgrades', () => {
    const cases = [
      [{ feature: 'bogus.version', maxVersionLevel: 1, upgradeType: 1 }, /does not support the given feature/],
      [{ feature: 'metadata.version', maxVersionLevel: 22, upgradeType: 1 }, /supports versions 1-21/],
      [{ feature: 'metadata.version', maxVersionLevel: 19, upgradeType: UpgradeType.UPGRADE }, /without setting the upgrade type/],
      [{ feature: 'metadata.version', maxVersionLevel: 19, upgradeType: UpgradeType.SAFE_DOWNGRADE }, /might delete metadata/],
      [{ feature: 'metadata.version', maxVersionLevel: 19, upgradeType: UpgradeType.UNSAFE_DOWNGRADE }, /Unsafe metadata downgrade/],
      [{ feature: 'kraft.version', maxVersionLevel: 1, upgradeType: 1 }, /kraft.version cannot be changed/],
    ] as const;
    for (const [bad, message] of cases) {
      const r = updateFeatures(image, [{ feature: 'metadata.version', maxVersionLevel: 21, upgradeType: 1 }, bad], SUPPORTED, false);
      expect(r.records).toEqual([]);
      expect(r.response.errorCode).toBe(ErrorCode.INVALID_UPDATE_VERSION);
      expect(r.response.errorMessage).toMatch(message);
      expect(r.response.results.map((x) => x.errorCode)).toEqual([ErrorCode.INVALID_UPDATE_VERSION, ErrorCode.INVALID_UPDATE_VERSION]);
    }
  });
});
