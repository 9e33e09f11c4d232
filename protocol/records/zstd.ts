// Zstandard for Kafka (compression.type=zstd, level 3 by default as in Kafka). Decompression is
// streamed into an output buffer that never grows past maxBytes + 1, so a frame that lies about
// (or omits) its content size cannot make us allocate more than the limit.

import type * as Zstd from 'zstd-napi';
import type * as ZstdBinding from 'zstd-napi/binding.js';
import { DecodeError } from '../decode-error.ts';
import { lazyAddon } from './lazy-addon.ts';

const zstd = lazyAddon<typeof Zstd>('zstd-napi');
// The native binding is CommonJS that re-exports the addon object, whose names ESM cannot see.
const zstdBinding = lazyAddon<typeof ZstdBinding>('zstd-napi/binding.js');

const MIN_CHUNK = 64 * 1024;
let dctx: ZstdBinding.DCtx | undefined;

export function zstdCompress(data: Buffer, level = 3): Buffer {
  return zstd().compress(data, { compressionLevel: level });
}

function corrupt(message: string): DecodeError {
  return new DecodeError('CORRUPT_RECORD', `zstd: ${message}`);
}

export function zstdDecompress(data: Buffer, maxBytes: number): Buffer {
  let declared: number | null;
  // Loaded outside the try: a library that fails to load is a broker fault, not a corrupt frame.
  const binding = zstdBinding();
  try {
    declared = binding.getFrameContentSize(data);
  } catch (err) {
    throw corrupt((err as Error).message);
  }
  if (declared !== null && declared > maxBytes) {
    throw new DecodeError('DECOMPRESSION_LIMIT', `zstd frame declares ${declared} bytes, limit ${maxBytes}`);
  }
  const cap = maxBytes + 1;
  let out = Buffer.allocUnsafe(Math.min(cap, declared !== null ? Math.max(declared, 1) : Math.max(MIN_CHUNK, data.length * 4)));
  dctx ??= new binding.DCtx();
  dctx.reset(binding.ResetDirective.sessionOnly);
  let produced = 0;
  let consumed = 0;
  for (;;) {
    if (produced === out.length) {
      if (out.length >= cap) break;
      const next = Buffer.allocUnsafe(Math.min(cap, out.length * 2));
      out.copy(next, 0, 0, produced);
      out = next;
    }
    let result: [number, number, number];
    try {
      result = dctx.decompressStream(out.subarray(produced), data.subarray(consumed));
    } catch (err) {
      dctx.reset(binding.ResetDirective.sessionOnly);
      throw corrupt((err as Error).message);
    }
    const [hint, wrote, read] = result;
    produced += wrote;
    consumed += read;
    if (hint === 0 && consumed === data.length) break;
    if (wrote === 0 && read === 0 && produced < out.length) throw corrupt('truncated frame');
  }
  if (produced > maxBytes) {
    dctx.reset(binding.ResetDirective.sessionOnly);
    throw new DecodeError('DECOMPRESSION_LIMIT', `zstd output passes the ${maxBytes}-byte limit`);
  }
  return out.subarray(0, produced);
}
