import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MetadataRecordType } from '../../protocol/generated/metadata-records.ts';
import { AddScramError, parseAddScram, readBootstrapMetadata, writeBootstrapMetadata } from './bootstrap-scram.ts';
import { ScramClient, ScramServer, scramMechanism } from './scram.ts';

describe('storage format --add-scram', () => {
  it('turns a credential into a record a client authenticates against', () => {
    const rec = parseAddScram('SCRAM-SHA-256=[name=alice,password=alice-secret]');
    expect(rec.type).toBe(MetadataRecordType.UserScramCredentialRecord);
    const d = rec.data as { name: string; mechanism: number; iterations: number; salt: Buffer; storedKey: Buffer; serverKey: Buffer };
    expect([d.name, d.mechanism, d.iterations]).toEqual(['alice', 1, 4096]);
    const m = scramMechanism('SCRAM-SHA-256')!;
    const server = new ScramServer(m, () => d);
    const client = new ScramClient(m, 'alice', 'alice-secret');
    expect(server.evaluate(client.final(server.evaluate(client.first()).challenge)).user).toBe('alice');
  });

  it('takes iterations, salt and a salted password, and refuses what Kafka refuses', () => {
    const rec = parseAddScram('SCRAM-SHA-512=[name=bob,iterations=8192,salt="c2FsdA==",saltedpassword="' + Buffer.alloc(64, 1).toString('base64') + '"]');
    expect((rec.data as { iterations: number; salt: Buffer }).salt.toString()).toBe('salt');
    expect(() => parseAddScram('SCRAM-SHA-1=[name=a,password=b]')).toThrow('The add-scram mechanism SCRAM-SHA-1 is not supported.');
    expect(() => parseAddScram('SCRAM-SHA-256=[password=b]')).toThrow("You must supply 'name' to add-scram");
    expect(() => parseAddScram('SCRAM-SHA-256=[name=a]')).toThrow("You must supply one of 'password' or 'saltedpassword' to add-scram");
    expect(() => parseAddScram('SCRAM-SHA-256=[name=a,password=b,iterations=100]')).toThrow(AddScramError);
    expect(() => parseAddScram('alice')).toThrow(AddScramError);
  });

  it('writes bootstrap.checkpoint and reads back its records (features left to the controller)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'samsa-bootstrap-'));
    try {
      expect(await readBootstrapMetadata(dir)).toEqual([]);
      const recs = [parseAddScram('SCRAM-SHA-256=[name=a,password=x]'), parseAddScram('SCRAM-SHA-512=[name=b,password=y]')];
      await writeBootstrapMetadata(dir, recs, 0);
      const back = await readBootstrapMetadata(dir);
      expect(back.map((r) => (r.data as { name: string }).name)).toEqual(['a', 'b']);
      expect((back[1]!.data as { storedKey: Buffer }).storedKey).toEqual((recs[1]!.data as { storedKey: Buffer }).storedKey);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
