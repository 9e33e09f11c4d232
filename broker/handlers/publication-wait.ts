// Waiting, within a request's timeoutMs, for the broker to publish the image a controller change
// produced, as CreateTopics, DeleteTopics and CreatePartitions do before answering: the change is
// committed either way, and only an expired wait turns the answer into REQUEST_TIMED_OUT (Kafka's
// delayed topic operations). A timeoutMs <= 0 asks for no wait at all.

import type { BrokerContext } from '../broker-context.ts';

/** True once the controller's latest image is published (or no wait was asked), false when the wait expired. */
export async function awaitPublished(ctx: BrokerContext, timeoutMs: number): Promise<boolean> {
  if (timeoutMs <= 0) return true;
  const published = ctx.controllerChannel.committedOffset().then((offset) => ctx.metadata.waitFor(offset))
    .then(() => true, () => false);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([published, expired]);
  } finally {
    clearTimeout(timer);
  }
}
