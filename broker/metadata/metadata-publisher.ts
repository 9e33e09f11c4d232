// The broker side of metadata: takes each image the controller commits, applies it to the
// replica manager (logs opened, leadership taken) and only then publishes it to the handlers,
// so a handler never sees a partition in the image that the broker has not set up yet.
// Publication listeners run through the containment seam, each on its own: one that fails is
// logged and the others, the waiters and the next images are still served. Should an image be
// missed (a failed hand-over) or fail to apply, the next one is applied whole rather than as a
// delta, so hosted partitions always converge on the latest image.
import type { Logger } from 'pino';
import { type Scheduler, SystemScheduler } from '../../protocol/scheduler.ts';
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
  private readonly scheduler: Scheduler;
  /** The last image handed to `handle`; a delta built on another base means one was missed. */
  private lastHandled: MetadataImage = EMPTY_IMAGE;
  private applyWhole = false;

  constructor(replicaManager: ReplicaManager, logger: Logger, scheduler?: Scheduler) {
    this.replicaManager = replicaManager;
    this.logger = logger;
    this.scheduler = scheduler ?? new SystemScheduler({ logger });
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
    if (delta !== undefined && delta.baseImage !== this.lastHandled) this.applyWhole = true;
    this.lastHandled = image;
    this.chain = this.chain.then(async () => {
      const whole = this.applyWhole;
      this.applyWhole = false;
      try {
        await this.replicaManager.applyImage(image, whole ? undefined : delta);
      } catch (err) {
        this.applyWhole = true;
        this.logger.error({ err, offset: String(image.offset) }, 'failed to apply metadata to the hosted partitions; the next image is applied whole');
      }
      this.published = image;
      const scope = { unit: 'metadata-listener', context: { offset: String(image.offset) } };
      for (const l of this.listeners) this.scheduler.run(scope, () => l(image));
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
