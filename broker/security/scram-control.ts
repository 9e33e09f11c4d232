// SCRAM credentials as the active controller changes them (Kafka's ScramControlManager): each
// AlterUserScramCredentials upsertion becomes a UserScramCredentialRecord (the stored and server
// keys derived from the client's salted password, never the password), each deletion a
// RemoveUserScramCredentialRecord. Checks, with Kafka's errors, per user (a user with any failed
// alteration gets none applied): a user altered twice for one mechanism (DUPLICATE_RESOURCE), an
// unknown mechanism (UNSUPPORTED_SASL_MECHANISM), iterations outside 4096..16384 or an empty
// name (UNACCEPTABLE_CREDENTIAL), deleting what does not exist (RESOURCE_NOT_FOUND).
import type { ControllerResult } from '../../controller/controller-result.ts';
import { type MetadataImage, scramCredentialKey } from '../../controller/metadata/image.ts';
import { type MetadataRecord, record } from '../../controller/metadata/record-serde.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import type { AlterUserScramCredentialsRequest } from '../../protocol/generated/message/alter-user-scram-credentials-request.ts';
import type { AlterUserScramCredentialsResponse } from '../../protocol/generated/message/alter-user-scram-credentials-response.ts';
import { MetadataRecordType } from '../../protocol/generated/metadata-records.ts';
import { credentialFromSaltedPassword, MAX_SCRAM_ITERATIONS, scramMechanismOfType } from './scram.ts';

type Result = AlterUserScramCredentialsResponse['results'][number];

export function alterUserScramCredentials(image: MetadataImage, req: AlterUserScramCredentialsRequest): ControllerResult<AlterUserScramCredentialsResponse> {
  const users: string[] = [];
  const errors = new Map<string, { errorCode: number; errorMessage: string }>();
  const seen = new Set<string>();
  const fail = (user: string, errorCode: number, errorMessage: string): void => {
    if (!errors.has(user)) errors.set(user, { errorCode, errorMessage });
  };
  const recordsOf = new Map<string, MetadataRecord[]>();
  const note = (user: string, mechanism: number): boolean => {
    if (!users.includes(user)) users.push(user);
    const key = scramCredentialKey(mechanism, user);
    if (seen.has(key)) {
      fail(user, ErrorCode.DUPLICATE_RESOURCE, 'A user credential cannot be altered twice in the same request');
      return false;
    }
    seen.add(key);
    if (user === '') {
      fail(user, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Username must not be empty');
      return false;
    }
    if (!scramMechanismOfType(mechanism)) {
      fail(user, ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism');
      return false;
    }
    return true;
  };
  const add = (user: string, r: MetadataRecord): void => {
    recordsOf.set(user, [...(recordsOf.get(user) ?? []), r]);
  };
  for (const d of req.deletions) {
    if (!note(d.name, d.mechanism)) continue;
    if (!image.scramCredentials?.has(scramCredentialKey(d.mechanism, d.name))) {
      fail(d.name, ErrorCode.RESOURCE_NOT_FOUND, 'Attempt to delete a user credential that does not exist');
      continue;
    }
    add(d.name, record(MetadataRecordType.RemoveUserScramCredentialRecord, { name: d.name, mechanism: d.mechanism }));
  }
  for (const u of req.upsertions) {
    if (!note(u.name, u.mechanism)) continue;
    const m = scramMechanismOfType(u.mechanism)!;
    if (u.iterations < m.minIterations) {
      fail(u.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too few iterations');
      continue;
    }
    if (u.iterations > MAX_SCRAM_ITERATIONS) {
      fail(u.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too many iterations');
      continue;
    }
    const c = credentialFromSaltedPassword(m, u.saltedPassword, u.salt, u.iterations);
    add(u.name, record(MetadataRecordType.UserScramCredentialRecord, { name: u.name, mechanism: u.mechanism, salt: c.salt, storedKey: c.storedKey, serverKey: c.serverKey, iterations: c.iterations }));
  }
  const records: MetadataRecord[] = [];
  const results: Result[] = users.map((user) => {
    const e = errors.get(user);
    if (e) return { user, ...e };
    records.push(...(recordsOf.get(user) ?? []));
    return { user, errorCode: ErrorCode.NONE, errorMessage: null };
  });
  return { records, response: { throttleTimeMs: 0, results } };
}
