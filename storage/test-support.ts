// Shared fixtures for storage tests: temporary directories, a silent logger, a settable clock.
import * as fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino, type Logger } from 'pino';

export function tempDir(prefix = 'samsa-storage-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A logger that keeps every entry (for asserting on warnings). */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) };
  return { logger: pino({ level: 'debug' }, stream), lines };
}

export class ManualClock {
  constructor(public time = 1_700_000_000_000) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}
