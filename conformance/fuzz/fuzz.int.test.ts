// The TCP fuzzer against a real broker process, bounded to about a minute: two fixed seeds (the
// same actions every run) and one fresh seed per run, printed so a failure can be replayed with
// `npm run fuzz -- --seed S --seconds N`. Each run must leave the process up, the healthy client
// answered throughout, and kafkajs able to produce and read back at the end.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { formatReport, runFuzz } from './fuzzer.ts';
import { freshSeed } from './prng.ts';

const FIXED_SEEDS = [1, 20_260_101];
const FRESH_SEED = Number(process.env.SAMSA_FUZZ_SEED ?? freshSeed());
const RUN_MS = 12_000;
const logger = pino({ level: process.env.SAMSA_FUZZ_LOG_LEVEL ?? 'warn' });
// Kinds of input to leave out while a fault they reach is known and being fixed (see --avoid in
// README.md); none today.
const AVOID: string[] = [];

describe('fuzzing a broker process over TCP', () => {
  for (const [label, seed] of [...FIXED_SEEDS.map((s) => ['fixed', s] as const), ['fresh', FRESH_SEED] as const]) {
    it(`stays up and serves a healthy client (${label} seed ${seed})`, async () => {
      console.log(`fuzz seed ${seed} (${label}), ${RUN_MS / 1000} s`);
      const report = await runFuzz({ seed, durationMs: RUN_MS, logger, journalSize: 80, avoid: AVOID });
      const text = formatReport(report);
      console.log(text);
      expect(report.crashes, text).toBe(0);
      expect(report.fuzzerFaults, text).toBe(0);
      expect(report.undecodable, text).toBe(0);
      expect(report.health.rounds, text).toBeGreaterThan(RUN_MS / 1000);
      expect(report.finalCheck, text).toMatch(/^ok/);
    }, RUN_MS + 45_000);
  }
});
