// `npm run fuzz -- --minutes N [--seed S] [--avoid kind,...] [--plaintext-only]`: one long fuzz run against a fresh broker process, with
// progress logged through pino and a summary printed at the end. Exits 1 if the broker failed, and
// prints the seed and the last actions so `--seed S` (with the same length) replays the run.
import { parseArgs } from 'node:util';
import pino from 'pino';
import { formatReport, runFuzz } from './fuzzer.ts';
import { freshSeed } from './prng.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string' },
    seconds: { type: 'string' },
    seed: { type: 'string' },
    'health-limit-ms': { type: 'string' },
    avoid: { type: 'string' },
    // Leaves out the SASL_PLAINTEXT, SASL_SSL and SSL listeners and their lanes.
    'plaintext-only': { type: 'boolean' },
  },
});

const seconds = values.seconds !== undefined ? Number(values.seconds) : Number(values.minutes ?? '1') * 60;
if (!Number.isFinite(seconds) || seconds <= 0) {
  process.stderr.write('usage: npm run fuzz -- --minutes N [--seed S]  (or --seconds N)\n');
  process.exit(2);
}
const seed = values.seed !== undefined ? Number(values.seed) : freshSeed();
const logger = pino({ level: process.env.LOG_LEVEL ?? 'info', base: { role: 'fuzz' } });
logger.info({ seed, seconds }, 'fuzz run starting');
const report = await runFuzz({
  seed,
  durationMs: seconds * 1000,
  logger,
  avoid: values.avoid ? values.avoid.split(',') : [],
  healthLimitMs: values['health-limit-ms'] !== undefined ? Number(values['health-limit-ms']) : undefined,
  secure: !values['plaintext-only'],
});
process.stdout.write(`\n${formatReport(report)}\n`);
process.exit(report.crashes === 0 && report.finalCheck.startsWith('ok') ? 0 : 1);
