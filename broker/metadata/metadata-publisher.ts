// The broker side of metadata: takes each image the controller commits, applies it to the
// replica manager (logs opened, leadership taken) and only then publishes it to the handlers,
// so a handler never sees a partition in the image that the broker has not set up yet.
import type { Logger } from 'pino';
import type { MetadataDelta } from '../../controller/metadata/delta.ts';
import { EMPTY_IMAGE, type MetadataImage } from '../../controller/metadata/image.ts';
import type { ReplicaManager } from '../replica/replica-manager.ts';

export class MetadataPublisher {
  private published: MetadataImage = EMPTY_IMAGE;
  private chain: Promise<void> = Promise.resolve();
  private waiters: { offset: bigint; resolve: () => void }[] = [];
  private readonly replicaManager: ReplicaManager;
  private readonly logger: Logger;
  private readonly listeners: ((image: MetadataImage) => void)[] = [];

  constructor(replicaManager: ReplicaManager, logger: Logger) {
    this.replicaManager = replicaManager;
    this.logger = logger;
  }

  /** The image handlers read. */
  get image(): MetadataImage {
    return this.published;
  }

  onPublish(listener: (image: MetadataImage) => void): void {
    this.listeners.push(listener);
  }

  /** Called for every committed image, in order. */
  handle(image: MetadataImage, delta: MetadataDelta | undefined): void {
    this.chain = this.chain.then(async () => {
      try {
        await this.replicaManager.applyImage(image, delta);
      } catch (err) {
        this.logger.error({ err, offset: String(image.offset) }, 'failed to apply metadata to the hosted partitions');
      }
      this.published = image;
      for (const l of this.listeners) l(image);
      const ready = this.waiters.filter((w) => w.offset <= image.offset);
      this.waiters = this.waiters.filter((w) => w.offset > image.offset);
      for (const w of ready) w.resolve();
    });
  }

  /** Resolves once an image at or past `offset` is published. */
  waitFor(offset: bigint): Promise<void> {
    if (this.published.offset >= offset) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ offset, resolve }));
  }

  /** Resolves once everything handed over so far is published. */
  idle(): Promise<void> {
    return this.chain;
  }
}
