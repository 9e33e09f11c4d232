// Native compression addons are loaded on first use: loading one costs ~10 ms at start, and a
// broker whose clients never use that codec never needs it.
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

/** A function returning the module `id`, required the first time it is called. */
export function lazyAddon<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= load(id) as T);
}
