import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseOptions } from './command-io.ts';
import { defineConfigsOptions, toConfigsOptions } from './configs.ts';
import { describeQuotaLine, formatQuotaValue, quotaOps } from './configs-quotas.ts';

const B = ['--bootstrap-server', 'localhost:9092'];
const configs = (...args: string[]) => toConfigsOptions(parseOptions(defineConfigsOptions(new Command('configs')), args) as never);

describe('samsa configs for client quotas', () => {
  it('names users, clients and ips, their defaults, and a user with a client', () => {
    expect(configs(...B, '--alter', '--entity-type', 'users', '--entity-name', 'alice', '--add-config', 'producer_byte_rate=1024').quotaEntity).toEqual([{ entityType: 'user', entityName: 'alice' }]);
    expect(configs(...B, '--alter', '--entity-type', 'clients', '--entity-default', '--add-config', 'consumer_byte_rate=1').quotaEntity).toEqual([{ entityType: 'client-id', entityName: null }]);
    expect(configs(...B, '--describe', '--entity-type', 'ips').quotaEntity).toEqual([{ entityType: 'ip', entityName: undefined }]);
    expect(configs(...B, '--alter', '--user', 'u', '--client-defaults', '--add-config', 'request_percentage=50').quotaEntity).toEqual([
      { entityType: 'user', entityName: 'u' },
      { entityType: 'client-id', entityName: null },
    ]);
    expect(configs(...B, '--describe', '--topic', 't').quotaEntity).toBeUndefined();
    expect(() => configs(...B, '--alter', '--entity-type', 'clients', '--add-config', 'producer_byte_rate=1')).toThrow(/entity name must be specified/);
    expect(() => configs(...B, '--alter', '--user', 'u', '--user-defaults', '--add-config', 'producer_byte_rate=1')).toThrow(/cannot both/);
  });

  it('checks keys and values before sending, and prints as kafka-configs', () => {
    expect(quotaOps(new Map([['producer_byte_rate', '1048576']]), ['consumer_byte_rate'])).toEqual([
      { key: 'producer_byte_rate', value: 1048576, remove: false },
      { key: 'consumer_byte_rate', value: 0, remove: true },
    ]);
    expect(() => quotaOps(new Map([['retention.ms', '1']]), [])).toThrow('Invalid config(s): retention.ms');
    expect(() => quotaOps(new Map([['producer_byte_rate', 'fast']]), [])).toThrow(/Cannot parse/);
    expect(formatQuotaValue(1048576)).toBe('1048576.0');
    expect(formatQuotaValue(12.5)).toBe('12.5');
    expect(
      describeQuotaLine(
        [
          { entityType: 'client-id', entityName: null },
          { entityType: 'user', entityName: 'alice' },
        ],
        [
          { key: 'producer_byte_rate', value: 1024 },
          { key: 'consumer_byte_rate', value: 2048 },
        ],
      ),
    ).toBe("Quota configs for user-principal 'alice', the default client-id are consumer_byte_rate=2048.0, producer_byte_rate=1024.0");
  });
});
