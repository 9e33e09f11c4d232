// The quorum controller: the one writer of cluster metadata. Operations run one at a time
// against the latest committed image; the records each produces are committed through Raft and
// replayed into the next image before its answer is given, so an answer never describes state
// that could still be lost. Subscribers (the broker's metadata publisher) see every new image.
import type { Logger } from 'pino';
import { type Scheduler, SystemScheduler } from '../protocol/scheduler.ts';
import type { ControllerResult } from './controller-result.ts';
import { allocateProducerIds, alterConfigs, bootstrapRecords, brokerHeartbeat, type ConfigChange, type HeartbeatInput, registerBroker, type RegisterBrokerInput } from './cluster-control.ts';
import { MetadataDelta } from './metadata/delta.ts';
import { EMPTY_IMAGE, type MetadataImage } from './metadata/image.ts';
import { decodeMetadataRecord, encodeMetadataRecord } from './metadata/record-serde.ts';
import type { CommittedBatch, RaftClient } from './raft/raft-client.ts';
import { createPartitions, type CreatePartitionsInput, createTopics, type CreateTopicInput, deleteTopics, type DeleteTopicInput, type TopicDefaults } from './topic-control.ts';

export type ImageListener = (image: MetadataImage, delta: MetadataDelta) => void;

export interface QuorumControllerOptions {
  raft: RaftClient;
  logger: Logger;
  /** Image listeners run through it, each contained on its own; a wall-clock one when absent. */
  scheduler?: Scheduler;
  topicDefaults: TopicDefaults;
  deleteTopicEnable: boolean;
}

export class QuorumController {
  private readonly opts: QuorumControllerOptions;
  private currentImage: MetadataImage = EMPTY_IMAGE;
  private readonly listeners: ImageListener[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private readonly scheduler: Scheduler;

  constructor(opts: QuorumControllerOptions) {
    this.opts = opts;
    this.scheduler = opts.scheduler ?? new SystemScheduler({ logger: opts.logger });
    opts.raft.register({ handleCommit: (batch) => this.replay(batch) });
  }

  get image(): MetadataImage {
    return this.currentImage;
  }

  get raft(): RaftClient {
    return this.opts.raft;
  }

  subscribe(listener: ImageListener): void {
    this.listeners.push(listener);
  }

  private replay(batch: CommittedBatch): void {
    const delta = new MetadataDelta(this.currentImage);
    for (const r of batch.records) delta.replay(decodeMetadataRecord(r.value), r.offset, batch.epoch);
    this.currentImage = delta.apply();
    const image = this.currentImage;
    const scope = { unit: 'metadata-listener', context: { offset: String(batch.lastOffset) } };
    for (const l of this.listeners) this.scheduler.run(scope, () => l(image, delta));
  }

  /** Starts the quorum (replaying the log) and writes the bootstrap records on a new cluster. */
  async start(): Promise<void> {
    await this.opts.raft.start();
    if (!this.currentImage.features.has('metadata.version')) {
      await this.run(() => ({ records: bootstrapRecords(), response: undefined }));
      this.opts.logger.info('wrote the bootstrap metadata of a new cluster');
    }
  }

  /** Runs one operation after all earlier ones, committing its records before answering. */
  run<T>(op: (image: MetadataImage) => ControllerResult<T>): Promise<T> {
    const task = async (): Promise<T> => {
      const result = op(this.currentImage);
      if (result.records.length > 0) await this.opts.raft.append(result.records.map(encodeMetadataRecord));
      return result.response;
    };
    const p = this.queue.then(task, task);
    this.queue = p.catch(() => undefined);
    return p;
  }

  createTopics(topics: CreateTopicInput[], validateOnly: boolean) {
    return this.run((image) => createTopics(image, topics, this.opts.topicDefaults, validateOnly));
  }

  createPartitions(topics: CreatePartitionsInput[], validateOnly: boolean) {
    return this.run((image) => createPartitions(image, topics, validateOnly, this.opts.topicDefaults.random));
  }

  deleteTopics(topics: DeleteTopicInput[]) {
    return this.run((image) => deleteTopics(image, topics, this.opts.deleteTopicEnable));
  }

  registerBroker(input: RegisterBrokerInput) {
    return this.run((image) => registerBroker(image, input, this.opts.raft.logEndOffset()));
  }

  brokerHeartbeat(input: HeartbeatInput) {
    return this.run((image) => brokerHeartbeat(image, input, this.opts.raft.hw - 1n));
  }

  allocateProducerIds(brokerId: number, brokerEpoch: bigint) {
    return this.run((image) => allocateProducerIds(image, brokerId, brokerEpoch));
  }

  alterConfigs(changes: ConfigChange[]) {
    return this.run(() => alterConfigs(changes));
  }

  async close(): Promise<void> {
    await this.queue;
    await this.opts.raft.close();
  }
}
