// The BROKER_LOGGER config resource (KIP-412): log levels by logger name, as DescribeConfigs and
// IncrementalAlterConfigs serve them. The broker has one named logger, Kafka's "root" (the pino
// root), shown with Kafka's level names. Difference from Kafka: per-module child loggers are not
// listed, and a new root level reaches the loggers created after the change (pino children keep
// the level they were created with).
import type { Logger } from 'pino';
import { ErrorCode, KafkaError } from '../../protocol/errors.ts';
import { checkBrokerResourceName, type IncrementalOp, AlterConfigOp } from './config-resources.ts';

export const ROOT_LOGGER = 'root';
/** Kafka's LogLevelConfig.VALID_LOG_LEVELS. */
const VALID_LEVELS = ['FATAL', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE'] as const;
const TO_KAFKA: Record<string, string> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', fatal: 'FATAL', silent: 'OFF' };

/** Logger name → Kafka level name. */
export function loggerLevels(root: Logger): Map<string, string> {
  return new Map([[ROOT_LOGGER, TO_KAFKA[root.level] ?? root.level.toUpperCase()]]);
}

/** Validates BROKER_LOGGER operations as Kafka's RuntimeLoggerManager does, then applies them unless validateOnly. */
export function alterLoggerLevels(root: Logger, nodeId: number, resourceName: string, ops: readonly IncrementalOp[], validateOnly: boolean): void {
  checkBrokerResourceName(resourceName, nodeId);
  const exists = (name: string): void => {
    if (name !== ROOT_LOGGER) throw new KafkaError(ErrorCode.INVALID_CONFIG, `Logger ${name} does not exist!`);
  };
  for (const op of ops) {
    switch (op.configOperation) {
      case AlterConfigOp.SET:
        exists(op.name);
        if (!(VALID_LEVELS as readonly string[]).includes(op.value ?? '')) {
          throw new KafkaError(
            ErrorCode.INVALID_CONFIG,
            `Cannot set the log level of ${op.name} to ${op.value} as it is not a supported log level. Valid log levels are ${VALID_LEVELS.join(', ')}`,
          );
        }
        break;
      case AlterConfigOp.DELETE:
        exists(op.name);
        throw new KafkaError(ErrorCode.INVALID_REQUEST, `Removing the log level of the ${ROOT_LOGGER} logger is not allowed`);
      case AlterConfigOp.APPEND:
        throw new KafkaError(ErrorCode.INVALID_REQUEST, 'APPEND operation is not allowed for the BROKER_LOGGER resource');
      case AlterConfigOp.SUBTRACT:
        throw new KafkaError(ErrorCode.INVALID_REQUEST, 'SUBTRACT operation is not allowed for the BROKER_LOGGER resource');
      default:
        throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unknown operation type ${op.configOperation} is not allowed for the BROKER_LOGGER resource`);
    }
  }
  if (validateOnly) return;
  for (const op of ops) root.level = op.value!.toLowerCase();
}
