#!/usr/bin/env -S npx tsx
// Entry point of the `samsa` command (package.json bin). Client tools end the process when their
// command is done, with the exit code it set; server-start keeps running.
import { buildProgram } from './program.ts';

const { program, keepsRunning } = buildProgram();
try {
  await program.parseAsync(process.argv);
} catch (e) {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
}
if (!keepsRunning()) process.exit(process.exitCode ?? 0);
