import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import { featureUpdates, formatFeatures, formatUpdateResults, levelToString, metadataVersionLevel, metadataVersionName } from './features.ts';

describe('metadata.version levels', () => {
  it('maps feature levels to Kafka\'s release names and back', () => {
    expect(metadataVersionName(1)).toBe('3.0-IV1');
    expect(metadataVersionName(7)).toBe('3.3-IV3');
    expect(metadataVersionName(20)).toBe('3.8-IV0');
    expect(metadataVersionName(21)).toBe('3.9-IV0');
    expect(metadataVersionLevel('3.9-IV0')).toBe(21);
    expect(metadataVersionLevel('3.7')).toBe(19);
    expect(metadataVersionLevel('3.3-IV3')).toBe(7);
    expect(metadataVersionLevel('2.8')).toBeUndefined();
    expect(levelToString('metadata.version', 999)).toBe('UNKNOWN 999');
    expect(levelToString('kraft.version', 1)).toBe('1');
  });
});

describe('features describe', () => {
  it('prints one line per supported feature, sorted, with the finalized level and epoch', () => {
    const text = formatFeatures({
      errorCode: 0,
      apiKeys: [],
      supportedFeatures: [
        { name: 'metadata.version', minVersion: 7, maxVersion: 21 },
        { name: 'kraft.version', minVersion: 0, maxVersion: 1 },
      ],
      finalizedFeaturesEpoch: 42n,
      finalizedFeatures: [{ name: 'metadata.version', minVersionLevel: 21, maxVersionLevel: 21 }],
    });
    expect(text).toBe(
      'Feature: kraft.version\tSupportedMinVersion: 0\tSupportedMaxVersion: 1\tFinalizedVersionLevel: 0\tEpoch: 42\n' +
        'Feature: metadata.version\tSupportedMinVersion: 3.3-IV3\tSupportedMaxVersion: 3.9-IV0\tFinalizedVersionLevel: 3.9-IV0\tEpoch: 42\n',
    );
  });

  it('an unknown epoch prints "-"', () => {
    const text = formatFeatures({ errorCode: 0, apiKeys: [], supportedFeatures: [{ name: 'kraft.version', minVersion: 0, maxVersion: 1 }], finalizedFeaturesEpoch: -1n });
    expect(text).toBe('Feature: kraft.version\tSupportedMinVersion: 0\tSupportedMaxVersion: 1\tFinalizedVersionLevel: 0\tEpoch: -\n');
  });
});

describe('features upgrade/downgrade/disable', () => {
  it('collects the levels asked for, refusing what FeatureCommand refuses', () => {
    expect(featureUpdates('upgrade', { metadata: '3.9' })).toEqual(new Map([['metadata.version', 21]]));
    expect(featureUpdates('downgrade', { releaseVersion: '3.8-IV0', feature: ['kraft.version=0'] })).toEqual(
      new Map([
        ['metadata.version', 20],
        ['kraft.version', 0],
      ]),
    );
    expect(featureUpdates('disable', { feature: ['group.version'] })).toEqual(new Map([['group.version', 0]]));
    expect(() => featureUpdates('upgrade', {})).toThrow('You must specify at least one feature to upgrade');
    expect(() => featureUpdates('upgrade', { feature: ['kraft.version'] })).toThrow("Can't parse feature=level string kraft.version: equals sign not found.");
    expect(() => featureUpdates('upgrade', { feature: ['kraft.version=x'] })).toThrow("Can't parse feature=level string kraft.version=x: unable to parse x as a short.");
    expect(() => featureUpdates('upgrade', { metadata: '3.9', feature: ['metadata.version=21'] })).toThrow('Feature metadata.version was specified more than once.');
    expect(() => featureUpdates('upgrade', { metadata: '9.9' })).toThrow(
      'Unsupported metadata version 9.9. Supported metadata versions are 3.3-IV0, 3.3-IV1, 3.3-IV2, 3.3-IV3, 3.4-IV0, 3.5-IV0, 3.5-IV1, 3.5-IV2, 3.6-IV0, 3.6-IV1, 3.6-IV2, 3.7-IV0, 3.7-IV1, 3.7-IV2, 3.7-IV3, 3.7-IV4, 3.8-IV0, 3.9-IV0',
    );
  });

  it('prints each feature\'s outcome, sorted, and counts failures', () => {
    const updates = new Map([
      ['metadata.version', 21],
      ['kraft.version', 1],
    ]);
    const response = {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      results: [
        { feature: 'metadata.version', errorCode: 0, errorMessage: null },
        { feature: 'kraft.version', errorCode: ErrorCode.INVALID_UPDATE_VERSION, errorMessage: 'kraft.version cannot be upgraded this way' },
      ],
    };
    expect(formatUpdateResults('upgrade', updates, response, false)).toEqual({
      text: 'Could not upgrade kraft.version to 1. kraft.version cannot be upgraded this way\nmetadata.version was upgraded to 21.\n',
      failures: 1,
    });
    expect(formatUpdateResults('upgrade', new Map([['metadata.version', 21]]), response, true).text).toBe('metadata.version can be upgraded to 21.\n');
    const topLevel = { ...response, errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: null, results: [] };
    expect(formatUpdateResults('disable', new Map([['group.version', 0]]), topLevel, false)).toEqual({
      text: 'Could not disable group.version. This is not the correct controller for this cluster.\n',
      failures: 1,
    });
  });
});
