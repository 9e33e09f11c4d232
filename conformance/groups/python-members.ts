// The Python group members (member.py) for confluent-kafka-python and kafka-python: the command
// that runs one, and committed() through the client.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runJson } from '../harness/child-json.ts';
import { PYTHON } from '../harness/python.ts';
import type { MemberCommand, MemberConfig } from './group-member.ts';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'member.py');

export type PythonClient = 'confluent' | 'kafka-python';

export function pythonMember(client: PythonClient, config: MemberConfig): MemberCommand {
  return { command: PYTHON, args: [SCRIPT, JSON.stringify({ ...config, client })] };
}

export async function pythonCommitted(client: PythonClient, bootstrap: string, group: string, topic: string, partitions: number): Promise<number[]> {
  const answer = await runJson<{ committed: Record<string, number> }>(PYTHON, [SCRIPT, JSON.stringify({ op: 'committed', client, bootstrap, group, topic, partitions })], { timeoutMs: 30_000 });
  return Array.from({ length: partitions }, (_, p) => answer.committed[String(p)] ?? -1);
}
