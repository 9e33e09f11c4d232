// `samsa features`: Kafka's kafka-features.sh. `describe` prints, per feature the node supports
// (sorted by name), its supported range and the cluster's finalized level with the finalized
// features' epoch, from one ApiVersions answer; metadata.version levels print as release names
// (21 → 3.9-IV0). `upgrade`, `downgrade` and `disable` send UpdateFeatures and print one line per
// feature ("metadata.version was upgraded to 21." or "Could not upgrade ...: <reason>"), then
// fail with "N out of M operation(s) failed." if any did, as FeatureCommand does.
import { Command } from 'commander';
import type { KafkaConnection } from '../../protocol/client/connection.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import type { ErrorCode as ErrorCodeValue } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { ApiVersionsResponse } from '../../protocol/generated/message/api-versions-response.ts';
import type { UpdateFeaturesResponse } from '../../protocol/generated/message/update-features-response.ts';
import { runAdmin } from './admin-connection.ts';
import { CliError, collect, processIo } from './command-io.ts';
import type { CommandIo } from './command-io.ts';

export const METADATA_VERSION_FEATURE = 'metadata.version';

/** Kafka's MetadataVersion names by feature level (level 1 is the first KRaft release). */
export const METADATA_VERSIONS: readonly string[] = [
  '3.0-IV1', '3.1-IV0', '3.2-IV0', '3.3-IV0', '3.3-IV1', '3.3-IV2', '3.3-IV3', '3.4-IV0', '3.5-IV0', '3.5-IV1',
  '3.5-IV2', '3.6-IV0', '3.6-IV1', '3.6-IV2', '3.7-IV0', '3.7-IV1', '3.7-IV2', '3.7-IV3', '3.7-IV4', '3.8-IV0',
  '3.9-IV0', '4.0-IV0', '4.0-IV1', '4.0-IV2', '4.0-IV3', '4.1-IV0', '4.1-IV1', '4.2-IV0', '4.2-IV1',
];
/** Kafka 3.9's latest production metadata.version and the oldest a cluster can be formatted with. */
export const LATEST_PRODUCTION_METADATA_VERSION = '3.9-IV0';
const MINIMUM_BOOTSTRAP_METADATA_VERSION = '3.3-IV0';

export function metadataVersionName(level: number): string | undefined {
  return METADATA_VERSIONS[level - 1];
}

/** MetadataVersion.fromVersionString: "3.9-IV0", or "3.9" for that release's last version. */
export function metadataVersionLevel(name: string): number | undefined {
  const exact = METADATA_VERSIONS.indexOf(name);
  if (exact >= 0) return exact + 1;
  let last = -1;
  METADATA_VERSIONS.forEach((v, i) => {
    if (v.slice(0, v.indexOf('-')) === name) last = i;
  });
  return last >= 0 ? last + 1 : undefined;
}

/** FeatureCommand.levelToString: release names for metadata.version, numbers for the others. */
export function levelToString(feature: string, level: number): string {
  if (feature !== METADATA_VERSION_FEATURE) return String(level);
  return metadataVersionName(level) ?? `UNKNOWN ${level}`;
}

/** The lines of `features describe` for an ApiVersions answer. */
export function formatFeatures(response: ApiVersionsResponse): string {
  const finalized = new Map((response.finalizedFeatures ?? []).map((f) => [f.name, f.maxVersionLevel]));
  const epoch = response.finalizedFeaturesEpoch !== undefined && response.finalizedFeaturesEpoch >= 0n ? String(response.finalizedFeaturesEpoch) : '-';
  return [...(response.supportedFeatures ?? [])]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(
      (f) =>
        `Feature: ${f.name}\tSupportedMinVersion: ${levelToString(f.name, f.minVersion)}\tSupportedMaxVersion: ${levelToString(f.name, f.maxVersion)}` +
        `\tFinalizedVersionLevel: ${levelToString(f.name, finalized.get(f.name) ?? 0)}\tEpoch: ${epoch}\n`,
    )
    .join('');
}

/** Kafka's FeatureUpdate.UpgradeType codes. */
export const UpgradeType = { UPGRADE: 1, SAFE_DOWNGRADE: 2, UNSAFE_DOWNGRADE: 3 } as const;

export type FeatureOp = 'upgrade' | 'downgrade' | 'disable';

export interface UpdateOptions {
  metadata?: string;
  releaseVersion?: string;
  feature?: string[];
  unsafe?: boolean;
  dryRun?: boolean;
}

function unsupportedMetadataVersion(name: string): CliError {
  const from = METADATA_VERSIONS.indexOf(MINIMUM_BOOTSTRAP_METADATA_VERSION);
  const to = METADATA_VERSIONS.indexOf(LATEST_PRODUCTION_METADATA_VERSION);
  return new CliError(`Unsupported metadata version ${name}. Supported metadata versions are ${METADATA_VERSIONS.slice(from, to + 1).join(', ')}`);
}

/** The feature levels an upgrade, downgrade or disable asks for, checked as FeatureCommand does. */
export function featureUpdates(op: FeatureOp, o: UpdateOptions): Map<string, number> {
  const updates = new Map<string, number>();
  if (op === 'disable') {
    for (const feature of o.feature ?? []) {
      if (updates.has(feature)) throw new CliError(`Feature ${feature} was specified more than once.`);
      updates.set(feature, 0);
    }
  } else {
    if (o.metadata !== undefined && o.releaseVersion !== undefined) throw new CliError('Can not specify both --metadata and --release-version');
    const release = o.metadata ?? o.releaseVersion;
    if (release !== undefined) {
      const level = metadataVersionLevel(release);
      if (level === undefined) throw unsupportedMetadataVersion(release);
      updates.set(METADATA_VERSION_FEATURE, level);
    }
    for (const item of o.feature ?? []) {
      const eq = item.indexOf('=');
      if (eq < 0) throw new CliError(`Can't parse feature=level string ${item}: equals sign not found.`);
      const name = item.slice(0, eq).trim();
      const levelText = item.slice(eq + 1).trim();
      const level = Number(levelText);
      if (levelText === '' || !Number.isInteger(level) || level < -32768 || level > 32767) {
        throw new CliError(`Can't parse feature=level string ${item}: unable to parse ${levelText} as a short.`);
      }
      if (updates.has(name)) throw new CliError(`Feature ${name} was specified more than once.`);
      updates.set(name, level);
    }
  }
  if (updates.size === 0) throw new CliError(`You must specify at least one feature to ${op}`);
  return updates;
}

/**
 * The lines FeatureCommand prints for an UpdateFeatures answer (features sorted by name) and the
 * number of failures. A top-level error fails every feature with it, as Kafka's admin client does.
 */
export function formatUpdateResults(op: FeatureOp, updates: ReadonlyMap<string, number>, response: UpdateFeaturesResponse, dryRun: boolean): { text: string; failures: number } {
  const errorOf = (feature: string): string | null => {
    if (response.errorCode !== ErrorCode.NONE) return new KafkaError(response.errorCode as ErrorCodeValue, response.errorMessage || undefined).message;
    const r = response.results.find((x) => x.feature === feature);
    if (r === undefined) return 'The controller response did not contain a result for this feature.';
    if (r.errorCode === ErrorCode.NONE) return null;
    return new KafkaError(r.errorCode as ErrorCodeValue, r.errorMessage || undefined).message;
  };
  let text = '';
  let failures = 0;
  for (const feature of [...updates.keys()].sort()) {
    const level = updates.get(feature)!;
    const error = errorOf(feature);
    if (error !== null) {
      const what = op === 'disable' ? `disable ${feature}` : `${op} ${feature} to ${level}`;
      text += `${dryRun ? 'Can not ' : 'Could not '}${what}. ${error}\n`;
      failures++;
    } else {
      text += `${feature}${dryRun ? ' can be ' : ' was '}${op === 'disable' ? 'disabled.' : `${op}d to ${level}.`}\n`;
    }
  }
  return { text, failures };
}

interface GlobalOptions {
  bootstrapServer?: string;
  bootstrapController?: string;
  commandConfig?: string;
}

async function update(io: CommandIo, connect: () => Promise<KafkaConnection>, op: FeatureOp, o: UpdateOptions): Promise<void> {
  const updates = featureUpdates(op, o);
  const type = op === 'upgrade' ? UpgradeType.UPGRADE : o.unsafe ? UpgradeType.UNSAFE_DOWNGRADE : UpgradeType.SAFE_DOWNGRADE;
  const conn = await connect();
  const response = await conn.send(ApiKey.UpdateFeatures, {
    timeoutMs: 30_000,
    featureUpdates: [...updates].map(([feature, maxVersionLevel]) => ({ feature, maxVersionLevel, allowDowngrade: type !== UpgradeType.UPGRADE, upgradeType: type })),
    validateOnly: o.dryRun === true,
  });
  const { text, failures } = formatUpdateResults(op, updates, response, o.dryRun === true);
  io.out(text);
  if (failures > 0) throw new CliError(`${failures} out of ${updates.size} operation(s) failed.`);
}

export function featuresCommand(io: CommandIo = processIo): Command {
  const cmd = new Command('features')
    .description('Describe and change the feature flags of the cluster (kafka-features).')
    .option('--bootstrap-server <servers>', 'A comma-separated list of host:port pairs to use for establishing the connection to the Kafka cluster.')
    .option('--bootstrap-controller <controllers>', 'A comma-separated list of host:port pairs to use for establishing the connection to the KRaft quorum.')
    .option('--command-config <file>', 'Property file containing configs to be passed to Admin Client.');
  const global = (): GlobalOptions => cmd.opts<GlobalOptions>();

  cmd
    .command('describe')
    .description('Describes the current active feature flags.')
    .action(async () => {
      await runAdmin(io, global(), 'samsa-features', async (connect) => {
        const conn = await connect();
        const response = await conn.send(ApiKey.ApiVersions, { clientSoftwareName: 'samsa', clientSoftwareVersion: '0.1.0' });
        if (response.errorCode !== ErrorCode.NONE) throw new KafkaError(response.errorCode as ErrorCodeValue);
        io.out(formatFeatures(response));
      });
    });

  const common = (c: Command, verb: string): Command =>
    c
      .option('--metadata <version>', `The level to which we should ${verb} the metadata. For example, 3.3-IV3.`)
      .option('--release-version <version>', `The release version to ${verb} metadata.version to. For example, 3.9-IV0.`)
      .option('--feature <feature=level>', `A feature ${verb} we should perform, in feature=level format (repeatable). For example: \`metadata.version=5\`.`, collect)
      .option('--dry-run', `Validate this ${verb}, but do not perform it.`);
  common(cmd.command('upgrade').description('Upgrade one or more feature flags.'), 'upgrade').action(async (o: UpdateOptions) => {
    await runAdmin(io, global(), 'samsa-features', (connect) => update(io, connect, 'upgrade', o));
  });
  common(cmd.command('downgrade').description('Downgrade one or more feature flags.'), 'downgrade')
    .option('--unsafe', 'Perform this downgrade even if it may irreversibly destroy metadata.')
    .action(async (o: UpdateOptions) => {
      await runAdmin(io, global(), 'samsa-features', (connect) => update(io, connect, 'downgrade', o));
    });
  cmd
    .command('disable')
    .description('Disable one or more feature flags. This is the same as downgrading the version to zero.')
    .option('--feature <feature>', 'A feature flag to disable (repeatable).', collect)
    .option('--unsafe', 'Disable this feature flag even if it may irreversibly destroy metadata.')
    .option('--dry-run', 'Perform a dry-run of this disable operation.')
    .action(async (o: UpdateOptions) => {
      await runAdmin(io, global(), 'samsa-features', (connect) => update(io, connect, 'disable', o));
    });
  return cmd;
}
