import { describe, expect, it } from 'vitest';
import { applyRecords } from '../../controller/metadata/delta.ts';
import { EMPTY_IMAGE, scramCredentialKey } from '../../controller/metadata/image.ts';
import { imageFromRecords, imageRecords } from '../../controller/metadata/image-records.ts';
import { encodeMetadataRecord } from '../../controller/metadata/record-serde.ts';
import { ErrorCode } from '../../protocol/errors.ts';
import { alterUserScramCredentials } from './scram-control.ts';
import { ScramClient, ScramServer, saltedPassword, scramMechanism } from './scram.ts';

const SHA256 = scramMechanism('SCRAM-SHA-256')!;
const salt = Buffer.alloc(16, 7);
const upsert = (name: string, iterations = 4096, password = 'pw') => ({ name, mechanism: 1, iterations, salt, saltedPassword: saltedPassword(SHA256, password, salt, iterations) });

describe('AlterUserScramCredentials on the controller', () => {
  it('stores keys a client can authenticate against, replicated through the image and its snapshot', () => {
    const r = alterUserScramCredentials(EMPTY_IMAGE, { deletions: [], upsertions: [upsert('alice', 8192, 'alice-secret')] });
    expect(r.response.results).toEqual([{ user: 'alice', errorCode: ErrorCode.NONE, errorMessage: null }]);
    const image = applyRecords(EMPTY_IMAGE, r.records.map((record, i) => ({ record, offset: BigInt(i), epoch: 1 })));
    const cred = image.scramCredentials!.get(scramCredentialKey(1, 'alice'))!;
    expect(cred.iterations).toBe(8192);
    const server = new ScramServer(SHA256, (u) => (u === 'alice' ? cred : undefined));
    const client = new ScramClient(SHA256, 'alice', 'alice-secret');
    expect(server.evaluate(client.final(server.evaluate(client.first()).challenge)).user).toBe('alice');
    // A snapshot of the image carries the credential.
    const again = imageFromRecords(imageRecords(image).map(encodeMetadataRecord), 5n, 1);
    expect(again.scramCredentials!.get(scramCredentialKey(1, 'alice'))!.storedKey).toEqual(cred.storedKey);
    // Deleting removes it.
    const d = alterUserScramCredentials(image, { deletions: [{ name: 'alice', mechanism: 1 }], upsertions: [] });
    const after = applyRecords(image, d.records.map((record) => ({ record, offset: 9n, epoch: 1 })));
    expect(after.scramCredentials!.size).toBe(0);
  });

  it("refuses, per user, what Kafka's controller refuses", () => {
    const r = alterUserScramCredentials(EMPTY_IMAGE, {
      deletions: [{ name: 'bob', mechanism: 1 }, { name: 'dup', mechanism: 1 }],
      upsertions: [upsert('few', 1000), upsert('many', 20000), { ...upsert('mech'), mechanism: 9 }, upsert(''), upsert('dup'), upsert('ok')],
    });
    expect(r.response.results.map((x) => [x.user, x.errorCode, x.errorMessage])).toEqual([
      ['bob', ErrorCode.RESOURCE_NOT_FOUND, 'Attempt to delete a user credential that does not exist'],
      ['dup', ErrorCode.RESOURCE_NOT_FOUND, 'Attempt to delete a user credential that does not exist'],
      ['few', ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too few iterations'],
      ['many', ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Too many iterations'],
      ['mech', ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism'],
      ['', ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Username must not be empty'],
      ['ok', ErrorCode.NONE, null],
    ]);
    expect(r.records).toHaveLength(1);
    const twice = alterUserScramCredentials(EMPTY_IMAGE, { deletions: [], upsertions: [upsert('x'), upsert('x')] });
    expect(twice.response.results).toEqual([{ user: 'x', errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: 'A user credential cannot be altered twice in the same request' }]);
    expect(twice.records).toEqual([]);
  });
});
