import { describe, expect, it } from 'vitest';
import { ConfigResourceType } from '../../controller/metadata/image.ts';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { AlterConfigOp, applyIncrementalOps, checkBrokerResourceName } from './config-resources.ts';

const T = ConfigResourceType.Topic;
const op = (name: string, configOperation: number, value: string | null) => ({ name, configOperation, value });

describe('applyIncrementalOps', () => {
  it('APPEND starts from the default, skips items present, and SUBTRACT removes them', () => {
    expect(applyIncrementalOps(T, new Map(), [op('cleanup.policy', AlterConfigOp.APPEND, 'compact,delete')])).toEqual(new Map([['cleanup.policy', 'delete,compact']]));
    expect(applyIncrementalOps(T, new Map([['cleanup.policy', 'compact']]), [op('cleanup.policy', AlterConfigOp.SUBTRACT, 'compact')])).toEqual(new Map([['cleanup.policy', '']]));
    expect(applyIncrementalOps(T, new Map(), [op('follower.replication.throttled.replicas', AlterConfigOp.APPEND, '0:1')])).toEqual(new Map([['follower.replication.throttled.replicas', '0:1']]));
  });

  it('SET and DELETE give the new value or null', () => {
    expect(applyIncrementalOps(T, new Map([['retention.ms', '5']]), [op('retention.ms', AlterConfigOp.DELETE, null), op('segment.ms', AlterConfigOp.SET, '9')])).toEqual(
      new Map([['retention.ms', null], ['segment.ms', '9']]),
    );
  });

  it('refuses APPEND on a non-list key and unknown operations', () => {
    expect(() => applyIncrementalOps(T, new Map(), [op('retention.ms', AlterConfigOp.SUBTRACT, '1')])).toThrow("Can't SUBTRACT to key retention.ms because its type is not LIST.");
    expect(() => applyIncrementalOps(T, new Map(), [op('retention.ms', 7, '1')])).toThrow('Unknown operations type 7');
  });
});

describe('checkBrokerResourceName', () => {
  it('accepts only this node id', () => {
    expect(() => checkBrokerResourceName('1', 1)).not.toThrow();
    const err = (() => {
      try {
        checkBrokerResourceName('x', 1);
      } catch (e) {
        return e as KafkaError;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(KafkaError);
    expect([err!.errorCode, err!.message]).toEqual([ErrorCode.INVALID_REQUEST, 'Node id must be an integer, but it is: x']);
    expect(() => checkBrokerResourceName('2', 1)).toThrow('Unexpected broker id, expected 1, but received 2');
  });
});
