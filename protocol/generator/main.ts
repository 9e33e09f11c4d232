// `npm run generate [-- <schema folder> [<output folder>]]`: regenerates protocol/generated from
// Apache Kafka's JSON message schemas (default ../shared/kafka-protocol beside the project).
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from './generate.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_SCHEMA_DIR = resolve(root, '../shared/kafka-protocol');
export const DEFAULT_OUTPUT_DIR = resolve(root, 'protocol/generated');

function main(argv: string[]): void {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log('usage: generate [schema-folder] [output-folder]');
    return;
  }
  const schemaDir = resolve(argv[0] ?? DEFAULT_SCHEMA_DIR);
  const outDir = resolve(argv[1] ?? DEFAULT_OUTPUT_DIR);
  if (!existsSync(schemaDir)) {
    console.error(`schema folder not found: ${schemaDir}`);
    process.exit(2);
  }
  const files = generate(schemaDir);
  rmSync(outDir, { recursive: true, force: true });
  for (const [rel, text] of files) {
    const p = join(outDir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  console.log(`generated ${files.size} files from ${schemaDir} into ${outDir}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
