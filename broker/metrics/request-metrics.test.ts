// Request metrics from observed requests: counters and histograms per API and version, error
// codes counted at every level of a response, connection counts by listener.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { RequestTimings } from '../request-observer.ts';
import { countErrorCodes, RequestMetrics } from './request-metrics.ts';
import { Scrape } from './scrape.ts';

function timings(apiKey: number, apiVersion: number, response: unknown, ms: { queue: number; local: number; wait: number }): RequestTimings {
  const ns = (x: number) => BigInt(Math.round(x * 1e6));
  return {
    listenerName: 'PLAINTEXT',
    apiKey,
    apiVersion,
    requestBytes: 100,
    responseBytes: 50,
    response,
    failed: false,
    receivedNs: 0n,
    startedNs: ns(ms.queue),
    completedNs: ns(ms.queue + ms.local),
    sentNs: ns(ms.queue + ms.local + ms.wait),
  };
}

describe('countErrorCodes', () => {
  it('counts the top level and every item, and does not enter records', () => {
    const codes: number[] = [];
    countErrorCodes(
      {
        errorCode: 0,
        responses: [{ topic: 't', partitions: [{ errorCode: 3, records: Buffer.from([0, 0, 0]) }, { errorCode: 0, abortedTransactions: [] }] }],
        other: { errorCode: 7, nested: [{ errorCode: 1 }] },
      },
      0,
      (c) => codes.push(c),
    );
    expect(codes.sort()).toEqual([0, 0, 1, 3, 7]);
  });
});

describe('RequestMetrics', () => {
  it('counts requests by API and version, errors by name, and times in milliseconds', async () => {
    const registry = new Registry();
    const m = new RequestMetrics(registry);
    m.connectionOpened('PLAINTEXT');
    m.connectionOpened('PLAINTEXT');
    m.connectionClosed('PLAINTEXT');
    m.requestCompleted(timings(ApiKey.Produce, 9, { responses: [{ name: 't', partitionResponses: [{ index: 0, errorCode: 0 }, { index: 1, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER }] }] }, { queue: 0.2, local: 3, wait: 0.05 }));
    m.requestCompleted(timings(ApiKey.Produce, 9, { responses: [] }, { queue: 0.2, local: 700, wait: 0 }));
    m.requestCompleted(timings(ApiKey.Metadata, 12, { topics: [] }, { queue: 0.1, local: 0.1, wait: 0 }));
    m.requestCompleted(timings(ApiKey.Produce, 3, null, { queue: 0.1, local: 0.1, wait: 0 }));
    const s = new Scrape(await registry.metrics());
    expect(s.value('kafka_network_requestmetrics_requests_total', { request: 'Produce', version: '9' })).toBe(2);
    expect(s.value('kafka_network_requestmetrics_requests_total', { request: 'Produce', version: '3' })).toBe(1);
    expect(s.value('kafka_network_requestmetrics_requests_total', { request: 'Metadata', version: '12' })).toBe(1);
    expect(s.value('kafka_network_requestmetrics_errors_total', { request: 'Produce', error: 'NONE' })).toBe(1);
    expect(s.value('kafka_network_requestmetrics_errors_total', { request: 'Produce', error: 'NOT_LEADER_OR_FOLLOWER' })).toBe(1);
    expect(s.histogramCount('kafka_network_requestmetrics_totaltimems', { request: 'Produce' })).toBe(3);
    // 700 ms of local time lands in the 1000 ms bucket, not the 500 ms one.
    expect(s.value('kafka_network_requestmetrics_localtimems_bucket', { request: 'Produce', le: '500' })).toBe(2);
    expect(s.value('kafka_network_requestmetrics_localtimems_bucket', { request: 'Produce', le: '1000' })).toBe(3);
    expect(s.sum('kafka_network_requestmetrics_localtimems_sum', { request: 'Produce' })).toBeCloseTo(703.1, 3);
    expect(s.sum('kafka_network_requestmetrics_responsequeuetimems_sum', { request: 'Produce' })).toBeCloseTo(0.05, 5);
    expect(s.value('kafka_server_socket_server_metrics_connection_count', { listener: 'PLAINTEXT' })).toBe(1);
    expect(s.value('kafka_server_socket_server_metrics_connection_creation_total', { listener: 'PLAINTEXT' })).toBe(2);
  });
});
