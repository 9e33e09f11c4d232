// Loading a broker's configuration the way kafka-server-start does: a server.properties file, then
// `--override key=value` arguments on top (later ones win). Every problem is reported with where
// the key came from (`file:line` or `--override`), so the operator knows what to edit.
import { readFile } from 'node:fs/promises';
import { parseBrokerConfig } from './broker-config.ts';
import type { BrokerConfig } from './broker-config.ts';
import { ConfigError } from './config-error.ts';
import type { ConfigProblem } from './config-error.ts';
import { PropertiesSyntaxError, parsePropertyEntries } from '../../storage/java-properties.ts';

/** Parses `key=value` override arguments; the value may itself contain '='. */
export function parseOverrides(overrides: readonly string[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  const problems: ConfigProblem[] = [];
  for (const o of overrides) {
    const eq = o.indexOf('=');
    if (eq <= 0) problems.push({ key: null, message: `--override ${o}: expected key=value` });
    else out[o.slice(0, eq).trim()] = o.slice(eq + 1);
  }
  if (problems.length > 0) throw new ConfigError(problems, 'Invalid command line properties');
  return out;
}

/** Builds a BrokerConfig from the text of a properties file (named `file` in messages) and overrides. */
export function parseServerProperties(text: string, file: string, overrides: readonly string[] = []): BrokerConfig {
  let entries;
  try {
    entries = parsePropertyEntries(text);
  } catch (e) {
    if (!(e instanceof PropertiesSyntaxError)) throw e;
    throw new ConfigError([{ key: null, message: `${file}:${e.line}: ${e.message}` }], `Invalid server properties file ${file}`);
  }
  const props: Record<string, string> = Object.create(null);
  const lineOf = new Map<string, number>();
  for (const e of entries) {
    props[e.key] = e.value;
    lineOf.set(e.key, e.line);
  }
  const fromOverrides = parseOverrides(overrides);
  Object.assign(props, fromOverrides);
  try {
    return parseBrokerConfig(props);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const where = (key: string | null): string => {
      if (key !== null && Object.hasOwn(fromOverrides, key)) return `--override ${key}`;
      if (key !== null && lineOf.has(key)) return `${file}:${lineOf.get(key)}`;
      return file;
    };
    throw new ConfigError(
      e.problems.map((p) => ({ key: p.key, message: `${where(p.key)}: ${p.message}` })),
      `Invalid broker configuration in ${file}`,
    );
  }
}

/** Reads a server.properties file and applies overrides. Throws ConfigError naming the file and key. */
export async function loadServerProperties(path: string, overrides: readonly string[] = []): Promise<BrokerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EACCES' && code !== 'EISDIR') throw e;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : 'is a directory';
    throw new ConfigError([{ key: null, message: `Cannot read ${path}: ${why}` }], 'Cannot load server properties');
  }
  return parseServerProperties(text, path, overrides);
}
