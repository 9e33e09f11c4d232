// Request metrics from observed requests: counters and histograms per API and version, error
// codes counted at every level of a response, connection counts by listener.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../protocol/errors.ts';
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { RequestTimings } from '../request-observer.ts';
import { countErrorCodes, RequestMetrics } from './request-metrics.ts';
import { Scrape } from './scrape.ts';

/** `handler` ms in the handler, `remote` of them in purgatories; `wait` behind earlier answers; `send` to write it. */
function timings(apiKey: number, apiVersion: number, response: unknown, ms: { queue: number; handler: number; wait: number; remote?: number; send?: number }): RequestTimings {
  return {
    listenerName: 'PLAINTEXT',
    apiKey,
    apiVersion,
    requestBytes: 100,
    responseBytes: 50,
    response,
    failed: false,
    receivedMs: 1000,
    startedMs: 1000 + ms.queue,
    completedMs: 1000 + ms.queue + ms.handler,
    remoteMs: ms.remote ?? 0,
    sentMs: 1000 + ms.queue + ms.handler + ms.wait,
    sendCompletedMs: 1000 + ms.queue + ms.handler + ms.wait + (ms.send ?? 0),
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
    m.requestCompleted(timings(ApiKey.Produce, 9, { responses: [{ name: 't', partitionResponses: [{ index: 0, errorCode: 0 }, { index: 1, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER }] }] }, { queue: 0.2, handler: 3, wait: 0.05 }));
    m.requestCompleted(timings(ApiKey.Produce, 9, { responses: [] }, { queue: 0.2, handler: 1300, wait: 0, remote: 600, send: 0.3 }));
    m.requestCompleted(timings(ApiKey.Metadata, 12, { topics: [] }, { queue: 0.1, handler: 0.1, wait: 0 }));
    m.requestCompleted(timings(ApiKey.Produce, 3, null, { queue: 0.1, handler: 0.1, wait: 0 }));
    const s = new Scrape(await registry.metrics());
    expect(s.value('kafka_network_requestmetrics_requests_total', { request: 'Produce', version: '9' })).toBe(2);
    expect(s.value('kafka_network_requestmetrics_requests_total', { request: 'Produce', version: '3' })).toBe(1);
    expect(s.value('kafka_network_requestmetrics_requests_total', { request: 'Metadata', version: '12' })).toBe(1);
    expect(s.value('kafka_network_requestmetrics_errors_total', { request: 'Produce', error: 'NONE' })).toBe(1);
    expect(s.value('kafka_network_requestmetrics_errors_total', { request: 'Produce', error: 'NOT_LEADER_OR_FOLLOWER' })).toBe(1);
    expect(s.histogramCount('kafka_network_requestmetrics_totaltimems', { request: 'Produce' })).toBe(3);
    // 1,300 ms in the handler of which 600 in a purgatory: 700 ms local time, in the 1000 ms bucket.
    expect(s.value('kafka_network_requestmetrics_localtimems_bucket', { request: 'Produce', le: '500' })).toBe(2);
    expect(s.value('kafka_network_requestmetrics_localtimems_bucket', { request: 'Produce', le: '1000' })).toBe(3);
    expect(s.sum('kafka_network_requestmetrics_localtimems_sum', { request: 'Produce' })).toBeCloseTo(703.1, 3);
    expect(s.sum('kafka_network_requestmetrics_responsequeuetimems_sum', { request: 'Produce' })).toBeCloseTo(0.05, 5);
    expect(s.sum('kafka_network_requestmetrics_remotetimems_sum', { request: 'Produce' })).toBeCloseTo(600, 3);
    expect(s.value('kafka_network_requestmetrics_remotetimems_bucket', { request: 'Produce', le: '500' })).toBe(2);
    expect(s.sum('kafka_network_requestmetrics_responsesendtimems_sum', { request: 'Produce' })).toBeCloseTo(0.3, 5);
    expect(s.sum('kafka_network_requestmetrics_totaltimems_sum', { request: 'Produce' })).toBeCloseTo(3.25 + 1300.5 + 0.2, 3);
    expect(s.value('kafka_server_socket_server_metrics_connection_count', { listener: 'PLAINTEXT' })).toBe(1);
    expect(s.value('kafka_server_socket_server_metrics_connection_creation_total', { listener: 'PLAINTEXT' })).toBe(2);
  });
});
