// One node's metrics: a prom-client Registry of its own (several nodes may share a process in
// tests) holding the request, topic, replica, controller and group metrics, exposed with the
// process-wide registry of the Node process metrics, and the RequestObserver the socket server
// reports to. Names follow what the Prometheus JMX exporter's
// common Kafka rules make of Kafka's MBeans (lower-cased `kafka_<domain>_<type>_<name>`, `_total`
// for the *PerSec meters), so dashboards made for Kafka read them; README.md lists each one with
// its MBean. Built only when metrics.enabled is true: otherwise no observer, no listener, no cost.
import { Registry } from 'prom-client';
import type { BrokerContext } from '../broker-context.ts';
import type { RequestObserver, RequestTimings } from '../request-observer.ts';
import { registerControllerMetrics } from './controller-metrics.ts';
import { GroupMetrics } from './group-metrics.ts';
import { processRegistry } from './process-metrics.ts';
import { ReplicaMetrics } from './replica-metrics.ts';
import { RequestMetrics } from './request-metrics.ts';
import { TopicMetrics } from './topic-metrics.ts';

export class NodeMetrics {
  readonly registry = new Registry();
  readonly observer: RequestObserver;

  constructor(context: BrokerContext) {
    const { config, replicaManager } = context;
    const requests = new RequestMetrics(this.registry);
    const replicas = new ReplicaMetrics(this.registry, replicaManager, context.fetchPurgatory);
    const topics = new TopicMetrics(this.registry, () => context.metadata.image, new Set(config.controllerListenerNames), (p, prev) => replicas.leaderPartitionChanged(p, prev));
    replicaManager.onAppend((p) => topics.partitionChanged(p));
    const groups = context.groupCoordinator ? new GroupMetrics(this.registry, context.groupCoordinator, replicaManager) : undefined;
    registerControllerMetrics(this.registry, { controller: context.controller, publisher: context.metadata, isController: config.isController, isBroker: config.isBroker });
    processRegistry();
    this.observer = {
      connectionOpened: (listener) => requests.connectionOpened(listener),
      connectionClosed: (listener) => requests.connectionClosed(listener),
      connectionRefused: (listener, reason) => requests.connectionRefused(listener, reason),
      requestCompleted: (t: RequestTimings) => {
        requests.requestCompleted(t);
        topics.requestCompleted(t);
        groups?.requestCompleted(t);
      },
    };
  }

  /** The Prometheus text exposition of every metric: this node's, then the process's. */
  async text(): Promise<string> {
    return `${await this.registry.metrics()}\n${await processRegistry().metrics()}`;
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
