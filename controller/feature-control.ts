// Finalized feature levels (KIP-584, KRaft's FeatureControlManager): UpdateFeatures decided
// against one image. The update is atomic: any refused feature refuses the whole request and
// nothing is written; otherwise one FeatureLevelRecord per changed feature. metadata.version can
// be raised within what every node supports; lowering it is refused (a downgrade could drop
// metadata Kafka's downgrade rules would have to rewrite). kraft.version changes need a dynamic
// quorum and are refused here.
import { ErrorCode } from '../protocol/errors.ts';
import { MetadataRecordType } from '../protocol/generated/metadata-records.ts';
import type { ControllerResult } from './controller-result.ts';
import type { MetadataImage } from './metadata/image.ts';
import { type MetadataRecord, record } from './metadata/record-serde.ts';

export const UpgradeType = { UPGRADE: 1, SAFE_DOWNGRADE: 2, UNSAFE_DOWNGRADE: 3 } as const;

export interface FeatureUpdate {
  feature: string;
  maxVersionLevel: number;
  upgradeType: number;
}

export interface FeatureUpdateOutcome {
  errorCode: number;
  errorMessage: string | null;
  /** Per feature, in request order. */
  results: { feature: string; errorCode: number; errorMessage: string | null }[];
}

export function updateFeatures(
  image: MetadataImage,
  updates: readonly FeatureUpdate[],
  supported: ReadonlyMap<string, { min: number; max: number }>,
  validateOnly: boolean,
): ControllerResult<FeatureUpdateOutcome> {
  const records: MetadataRecord[] = [];
  let failure: { errorCode: number; errorMessage: string } | null = null;
  for (const u of updates) {
    const problem = check(image, u, supported);
    if (problem) {
      failure = { errorCode: ErrorCode.INVALID_UPDATE_VERSION, errorMessage: problem };
      break;
    }
    if ((image.features.get(u.feature) ?? 0) !== u.maxVersionLevel) {
      records.push(record(MetadataRecordType.FeatureLevelRecord, { name: u.feature, featureLevel: u.maxVersionLevel }));
    }
  }
  const error = failure ?? { errorCode: ErrorCode.NONE, errorMessage: null };
  return {
    records: failure || validateOnly ? [] : records,
    response: { ...error, results: updates.map((u) => ({ feature: u.feature, ...error })) },
  };
}

function check(image: MetadataImage, u: FeatureUpdate, supported: ReadonlyMap<string, { min: number; max: number }>): string | null {
  const range = supported.get(u.feature);
  const current = image.features.get(u.feature) ?? 0;
  if (!range) return `Invalid update version ${u.maxVersionLevel} for feature ${u.feature}. The controller does not support the given feature.`;
  if (![UpgradeType.UPGRADE, UpgradeType.SAFE_DOWNGRADE, UpgradeType.UNSAFE_DOWNGRADE].includes(u.upgradeType as 1)) return `Unknown upgrade type ${u.upgradeType}`;
  if (u.maxVersionLevel > range.max || (u.maxVersionLevel < range.min && !(u.maxVersionLevel === 0 && u.feature !== 'metadata.version'))) {
    return `Invalid update version ${u.maxVersionLevel} for feature ${u.feature}. Local controller supports versions ${range.min}-${range.max}.`;
  }
  if (u.maxVersionLevel < current) {
    if (u.upgradeType === UpgradeType.UPGRADE) return `Invalid update version ${u.maxVersionLevel} for feature ${u.feature}. Can't downgrade the version of this feature without setting the upgrade type to either safe or unsafe downgrade.`;
    if (u.feature === 'metadata.version') {
      return u.upgradeType === UpgradeType.UNSAFE_DOWNGRADE
        ? 'Unsafe metadata downgrade is not supported in this version.'
        : `Invalid metadata.version ${u.maxVersionLevel}. Refusing to perform the requested downgrade because it might delete metadata information.`;
    }
  }
  if (u.feature === 'kraft.version' && u.maxVersionLevel !== current) return `Invalid update version ${u.maxVersionLevel} for feature kraft.version. The quorum's kraft.version cannot be changed by this controller.`;
  return null;
}
