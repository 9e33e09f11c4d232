// The `samsa` command tree: one subcommand per Kafka script (kafka-topics.sh → `samsa topics`, ...),
// plus `storage` and `server-start`. server-start hands over to the broker process `npm start`
// runs (broker/start-command.ts), loaded only then, so the client tools load quickly.
import { Command } from 'commander';
import { configsCommand } from './configs.ts';
import { consoleConsumerCommand } from './console-consumer.ts';
import { consoleProducerCommand } from './console-producer.ts';
import { consumerGroupsCommand } from './consumer-groups.ts';
import { consumerPerfTestCommand } from './consumer-perf-test.ts';
import { getOffsetsCommand } from './get-offsets.ts';
import { producerPerfTestCommand } from './producer-perf-test.ts';
import { storageCommand } from './storage.ts';
import { metadataQuorumCommand } from './metadata-quorum.ts';
import { featuresCommand } from './features.ts';
import { leaderElectionCommand } from './leader-election.ts';
import { reassignPartitionsCommand } from './reassign-partitions.ts';
import { logDirsCommand } from './log-dirs.ts';
import { transactionsCommand } from './transactions.ts';
import { aclsCommand } from './acls.ts';
import { clusterCommand } from './cluster.ts';
import { topicsCommand } from './topics.ts';
import { collect, parseKeyValues, processIo, runAction } from './command-io.ts';

function serverStartCommand(onStarted: () => void): Command {
  return new Command('server-start')
    .description('Start a broker and/or controller (kafka-server-start); without a file, a single node on localhost:9092.')
    .argument('[server.properties]', "the node's configuration file")
    .option('--override <name=value>', 'a property that overrides the file (repeatable)', collect)
    .action(async (configFile: string | undefined, o: { override?: string[] }) => {
      const overrides = o.override ?? [];
      await runAction(processIo, '', async () => {
        parseKeyValues(overrides, '--override');
        // The broker runs as `npm start` runs it: a process of its own, with the start script's
        // thread pool and heap settings, which this already running process cannot take on.
        const { runBrokerProcess } = await import('../start-command.ts');
        onStarted();
        const code = await runBrokerProcess([...(configFile === undefined ? [] : [configFile]), ...overrides.flatMap((kv) => ['--override', kv])]);
        process.exit(code);
      });
    });
}

export interface Program {
  program: Command;
  /** True once a command that keeps the process alive (a server) has started. */
  keepsRunning(): boolean;
}

export function buildProgram(): Program {
  let serving = false;
  const program = new Command('samsa')
    .description('Samsa, a Kafka-compatible broker: server and command-line tools.')
    .showHelpAfterError()
    .addCommand(serverStartCommand(() => (serving = true)))
    .addCommand(storageCommand())
    .addCommand(topicsCommand())
    .addCommand(configsCommand())
    .addCommand(consoleProducerCommand())
    .addCommand(consoleConsumerCommand())
    .addCommand(consumerGroupsCommand())
    .addCommand(getOffsetsCommand())
    .addCommand(producerPerfTestCommand())
    .addCommand(consumerPerfTestCommand())
    .addCommand(metadataQuorumCommand())
    .addCommand(featuresCommand())
    .addCommand(leaderElectionCommand())
    .addCommand(reassignPartitionsCommand())
    .addCommand(logDirsCommand())
    .addCommand(transactionsCommand())
    .addCommand(aclsCommand())
    .addCommand(clusterCommand());
  return { program, keepsRunning: () => serving };
}
