// Malformed input: each round opens a connection, writes one to six frames (mutations of captured
// client requests, or well-formed frames of random API keys at random versions, some of them
// unsupported), then waits briefly for the broker to answer or close and drops the connection.
// The broker's answers are only counted: what matters is that it stays up and keeps serving others.
import { API_SPECS, apiSpec } from '../../protocol/generated/api-table.ts';
import { encodeRequestFrame } from '../../protocol/headers.ts';
import type { FuzzContext } from './context.ts';
import { sleep } from './context.ts';
import { type CorpusFrame, mutate, sizePrefixed } from './mutate.ts';
import type { Prng } from './prng.ts';

const API_KEYS = Object.keys(API_SPECS).map(Number);

/** A frame of a random API at a random version, with an all-defaults body where it encodes. */
function randomApiFrame(rng: Prng, correlationId: number): { kind: string; bytes: Buffer } {
  const apiKey = rng.chance(0.9) ? rng.pick(API_KEYS) : rng.pick([-1, 88, 1000, 0x7fff]);
  const spec = apiSpec(apiKey);
  const version = spec ? rng.weighted([[6, rng.range(spec.minVersion, spec.maxVersion)], [1, spec.maxVersion + rng.range(1, 3)], [1, rng.pick([-1, 0x7fff])]] as const) : rng.range(0, 5);
  if (spec && version >= spec.minVersion && version <= spec.maxVersion) {
    try {
      const chunks = encodeRequestFrame(apiKey as never, version, correlationId, 'fz-raw', {} as never);
      return { kind: `${spec.name} v${version} defaults`, bytes: Buffer.concat(chunks) };
    } catch {
      // Some bodies have no all-defaults form; fall through to a header with random bytes.
    }
  }
  const header = Buffer.alloc(10);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(version, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(-1, 8);
  return { kind: `api ${apiKey} v${version} random body`, bytes: sizePrefixed(Buffer.concat([header, rng.bytes(rng.int(40))])) };
}

export async function runRaw(ctx: FuzzContext, rng: Prng, lane: string, corpus: readonly CorpusFrame[]): Promise<void> {
  while (ctx.running) {
    const plan: { kind: string; chunks: Buffer[] }[] = [];
    const n = rng.weighted([[6, 1], [3, 2], [1, rng.range(3, 6)]] as const);
    for (let i = 0; i < n; i++) {
      if (rng.chance(0.15)) {
        const f = randomApiFrame(rng, i + 1);
        plan.push({ kind: f.kind, chunks: [f.bytes] });
      } else if (rng.chance(0.1)) {
        const c = rng.pick(corpus);
        plan.push({ kind: `${c.name} intact`, chunks: [sizePrefixed(c.frame)] });
      } else {
        const c = rng.pick(corpus);
        const m = mutate(c.frame, rng);
        plan.push({ kind: `${c.name} ${m.kind}`, chunks: m.chunks });
      }
    }
    const waitMs = rng.range(20, 300);
    const closeEarly = rng.chance(0.1);
    ctx.journal.add(lane, `${plan.map((p) => p.kind).join(' | ')}${closeEarly ? ' (then close at once)' : ''}`);
    let wire;
    try {
      wire = await ctx.open();
    } catch {
      await sleep(100);
      continue;
    }
    for (const p of plan) p.chunks.forEach((c, i) => wire.sendRaw(c, i === 0));
    if (!closeEarly) await wire.waitClose(waitMs);
    ctx.close(wire);
    await sleep(rng.int(5));
  }
}
