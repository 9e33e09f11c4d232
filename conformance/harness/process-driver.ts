// A ClientDriver over a client program run as a child process (Python, Go): each call runs the
// program once with one JSON request on stdin ({"op", "bootstrap", ...}) and reads one JSON
// answer from the last line of stdout. A program that fails prints {"error": "..."} and exits 1.
// Programs in the client folders implement the ops below; the shapes are the driver's own.
import type { ClientDriver, ProduceSpec, TopicDescription } from './client-suite.ts';
import { runJson } from './child-json.ts';
import type { ReadRecord, SentRecord } from './records.ts';

export interface ProgramOptions {
  command: string;
  args: readonly string[];
  env?: Record<string, string>;
  timeoutMs?: number;
}

export function processDriver(bootstrap: string, program: ProgramOptions): ClientDriver {
  const call = <T>(op: string, body: Record<string, unknown>): Promise<T> =>
    runJson<T>(program.command, program.args, {
      input: JSON.stringify({ op, bootstrap, ...body }),
      env: program.env,
      timeoutMs: program.timeoutMs ?? 30_000,
    });
  return {
    metadata: (topic) => call('metadata', { topic }),
    async createTopics(topics: readonly TopicDescription[]) {
      await call('create-topics', { topics });
    },
    async describeTopics(names) {
      return (await call<{ topics: TopicDescription[] }>('describe-topics', { topics: names })).topics;
    },
    async deleteTopics(names) {
      await call('delete-topics', { topics: names });
    },
    async produce(topic: string, records: readonly SentRecord[], spec: ProduceSpec) {
      const answer = await call<{ sent: number }>('produce', { topic, records, acks: spec.acks, compression: spec.compression ?? 'none', idempotent: spec.idempotent ?? false });
      if (answer.sent !== records.length) throw new Error(`the client reported ${answer.sent} of ${records.length} records sent`);
    },
    async consume(topic, partitions, expected) {
      return (await call<{ records: ReadRecord[] }>('consume', { topic, partitions, expected })).records;
    },
    async groupConsume(topic, group, expected, options) {
      return (await call<{ records: ReadRecord[] }>('group-consume', { topic, group, expected, assignor: options?.assignor ?? null })).records;
    },
    async offsetForTime(topic, partition, timestamp) {
      return (await call<{ offset: number }>('offset-for-time', { topic, partition, timestamp })).offset;
    },
  };
}
