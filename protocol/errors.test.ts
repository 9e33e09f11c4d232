import { describe, it, expect, expectTypeOf } from 'vitest';
import { ALL_ERRORS, ErrorCode, KafkaError, errorByCode, errorCodeOf, isKnownErrorCode } from './errors.ts';

describe('error table', () => {
  it('has unique codes and names, contiguous from -1 to the highest code of Kafka 3.9', () => {
    const codes = ALL_ERRORS.map((e) => e.code);
    const names = ALL_ERRORS.map((e) => e.name);
    expect(new Set(codes).size).toBe(codes.length);
    expect(new Set(names).size).toBe(names.length);
    // Kafka 3.9 ends at VOTER_NOT_FOUND (KIP-853); 128 and later arrived with 4.0.
    expect(codes).toEqual(Array.from({ length: 129 }, (_, i) => i - 1));
    expect(errorByCode(127).name).toBe('VOTER_NOT_FOUND');
    expect(isKnownErrorCode(128)).toBe(false);
  });

  it('maps names to codes in both directions', () => {
    for (const e of ALL_ERRORS) {
      expect(ErrorCode[e.name]).toBe(e.code);
      expect(errorByCode(e.code)).toBe(e);
      expect(e.message.length).toBeGreaterThan(0);
    }
    expect(Object.keys(ErrorCode)).toHaveLength(ALL_ERRORS.length);
  });

  it.each([
    ['UNKNOWN_SERVER_ERROR', -1, false],
    ['NONE', 0, false],
    ['OFFSET_OUT_OF_RANGE', 1, false],
    ['CORRUPT_MESSAGE', 2, true],
    ['UNKNOWN_TOPIC_OR_PARTITION', 3, true],
    ['LEADER_NOT_AVAILABLE', 5, true],
    ['NOT_LEADER_OR_FOLLOWER', 6, true],
    ['REQUEST_TIMED_OUT', 7, true],
    ['MESSAGE_TOO_LARGE', 10, false],
    ['COORDINATOR_LOAD_IN_PROGRESS', 14, true],
    ['COORDINATOR_NOT_AVAILABLE', 15, true],
    ['NOT_COORDINATOR', 16, true],
    ['NOT_ENOUGH_REPLICAS', 19, true],
    ['NOT_ENOUGH_REPLICAS_AFTER_APPEND', 20, true],
    ['ILLEGAL_GENERATION', 22, false],
    ['UNKNOWN_MEMBER_ID', 25, false],
    ['REBALANCE_IN_PROGRESS', 27, false],
    ['TOPIC_AUTHORIZATION_FAILED', 29, false],
    ['UNSUPPORTED_VERSION', 35, false],
    ['TOPIC_ALREADY_EXISTS', 36, false],
    ['NOT_CONTROLLER', 41, true],
    ['INVALID_REQUEST', 42, false],
    ['OUT_OF_ORDER_SEQUENCE_NUMBER', 45, false],
    ['DUPLICATE_SEQUENCE_NUMBER', 46, false],
    ['INVALID_PRODUCER_EPOCH', 47, false],
    ['CONCURRENT_TRANSACTIONS', 51, true],
    ['KAFKA_STORAGE_ERROR', 56, true],
    ['UNKNOWN_PRODUCER_ID', 59, false],
    ['FETCH_SESSION_ID_NOT_FOUND', 70, true],
    ['FENCED_LEADER_EPOCH', 74, true],
    ['UNKNOWN_LEADER_EPOCH', 75, true],
    ['MEMBER_ID_REQUIRED', 79, false],
    ['FENCED_INSTANCE_ID', 82, false],
    ['ELECTION_NOT_NEEDED', 84, true],
    ['UNSTABLE_OFFSET_COMMIT', 88, true],
    ['THROTTLING_QUOTA_EXCEEDED', 89, true],
    ['PRODUCER_FENCED', 90, false],
    ['UNKNOWN_TOPIC_ID', 100, true],
    ['INCONSISTENT_TOPIC_ID', 103, true],
    ['FETCH_SESSION_TOPIC_ID_ERROR', 106, true],
    ['FENCED_MEMBER_EPOCH', 110, false],
    ['STALE_MEMBER_EPOCH', 113, false],
    ['MISMATCHED_ENDPOINT_TYPE', 114, false],
    ['UNSUPPORTED_ENDPOINT_TYPE', 115, false],
    ['UNKNOWN_CONTROLLER_ID', 116, false],
    ['TRANSACTION_ABORTABLE', 120, false],
    ['SHARE_SESSION_NOT_FOUND', 122, true],
    ['INVALID_SHARE_SESSION_EPOCH', 123, true],
    ['INVALID_VOTER_KEY', 125, false],
  ] as const)('%s = %i (retriable %s)', (name, code, retriable) => {
    expect(ErrorCode[name]).toBe(code);
    const info = errorByCode(code);
    expect(info.name).toBe(name);
    expect(info.retriable).toBe(retriable);
  });

  it('keeps Kafka default messages', () => {
    expect(errorByCode(ErrorCode.UNSUPPORTED_VERSION).message).toBe('The version of API is not supported.');
    expect(errorByCode(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION).message).toBe('This server does not host this topic-partition.');
  });

  it('reads an unknown code as UNKNOWN_SERVER_ERROR, as Errors.forCode does', () => {
    expect(errorByCode(9999).name).toBe('UNKNOWN_SERVER_ERROR');
    expect(errorByCode(-2).code).toBe(-1);
    expect(isKnownErrorCode(9999)).toBe(false);
    expect(isKnownErrorCode(6)).toBe(true);
  });

  it('types codes as literals', () => {
    expectTypeOf(ErrorCode.NOT_LEADER_OR_FOLLOWER).toEqualTypeOf<6>();
    expectTypeOf<ErrorCode>().not.toEqualTypeOf<number>();
  });
});

describe('KafkaError', () => {
  it('carries code, name, retriable flag and the default message', () => {
    const err = new KafkaError(ErrorCode.NOT_COORDINATOR);
    expect(err).toBeInstanceOf(Error);
    expect(err.errorCode).toBe(16);
    expect(err.errorName).toBe('NOT_COORDINATOR');
    expect(err.retriable).toBe(true);
    expect(err.message).toBe('This is not the correct coordinator.');
    expect(err.name).toBe('KafkaError');
  });

  it('takes a specific message and a cause', () => {
    const cause = new Error('disk');
    const err = new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, 'log dir /x is offline', { cause });
    expect(err.message).toBe('log dir /x is offline');
    expect(err.cause).toBe(cause);
  });

  it('turns anything but a KafkaError into UNKNOWN_SERVER_ERROR', () => {
    expect(errorCodeOf(new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION))).toBe(17);
    expect(errorCodeOf(new TypeError('bug'))).toBe(-1);
    expect(errorCodeOf('string')).toBe(-1);
  });
});
