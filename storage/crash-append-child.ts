// Child process for crash tests (log.int.test.ts): opens the log in argv[2] as after a crash,
// then appends numbered batches forever (a few in flight), printing `ack <seq> <firstOffset>` once
// each append has resolved. Batch `seq` is fully determined by seq (see crashBatch), so the
// parent can check what survived a SIGKILL.
import { pino } from 'pino';
import { defaultLogConfig } from './log-config.ts';
import { Log } from './log.ts';
import { buildSimpleBatch } from './test-batches.ts';

export function crashBatch(seq: number): Buffer {
  const buf = buildSimpleBatch(1 + (seq % 5), 40 + ((seq * 37) % 1500), { seed: seq, timestamp: 1_000_000 + seq });
  return buf;
}

export const CRASH_LOG_CONFIG = { ...defaultLogConfig, segmentBytes: 256 * 1024, indexIntervalBytes: 4096 };

async function main(): Promise<void> {
  const dir = process.argv[2]!;
  let seq = Number(process.argv[3]);
  const log = await Log.open({ dir, topic: 'crash', partition: 0, config: CRASH_LOG_CONFIG, logger: pino({ level: 'silent' }), hadCleanShutdown: false });
  process.stdout.write(`ready ${log.logEndOffset}\n`);
  const inFlight = new Set<Promise<void>>();
  for (;;) {
    const s = seq++;
    const p = log.append(crashBatch(s), { assignOffsets: true }).then((r) => {
      process.stdout.write(`ack ${s} ${r.firstOffset}\n`);
    });
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    if (inFlight.size >= 4) await Promise.race(inFlight);
    // Bounded pace keeps the log small enough to verify after every kill.
    if (s % 4 === 3) await new Promise((r) => setTimeout(r, 1));
  }
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  main().catch((err) => {
    process.stderr.write(String(err?.stack ?? err));
    process.exit(1);
  });
}
