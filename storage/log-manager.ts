// Owner of every partition log on this broker, across the directories of `log.dirs`.
// Layout per log dir: `meta.properties`, the offset checkpoints (recovery-point-offset-checkpoint,
// log-start-offset-checkpoint, replication-offset-checkpoint, cleaner-offset-checkpoint), the
// marker `.kafka_cleanshutdown` (present only between a clean shutdown and the next start), and
// one directory `<topic>-<partition>` per log. A deleted log's directory is renamed to
// `<topic>-<partition>.<32 hex>-delete` and removed after file.delete.delay.ms.
// Start-up loads all partition directories with bounded parallelism per log dir; logs of a dir
// without the clean-shutdown marker are recovered from their checkpointed recovery points.
// Periodic work (retention, checkpoints, flush.ms) runs through the containment seam (a failing
// pass is logged and the next one runs); the clock decides what is due, so tests drive the same
// methods directly. A log that goes offline after an I/O error takes its log dir offline; when
// no log dir is left online the node cannot serve and a FatalError stops it, as Kafka does.
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { FatalError, type Scheduler, SystemScheduler, type TimerHandle } from '../protocol/scheduler.ts';
import {
  CLEANER_OFFSET_CHECKPOINT_FILE,
  LOG_START_OFFSET_CHECKPOINT_FILE,
  RECOVERY_POINT_CHECKPOINT_FILE,
  REPLICATION_OFFSET_CHECKPOINT_FILE,
  readOffsetCheckpoint,
  topicPartitionKey,
  writeOffsetCheckpoint,
  type TopicPartitionOffset,
} from './checkpoint.ts';
import { randomUuid } from '../protocol/uuid.ts';
import { LogCleaner } from './cleaner.ts';
import { isCompacted, type LogConfig } from './log-config.ts';
import { Log, systemClock, type Clock } from './log.ts';
import { readMetaProperties, writeMetaProperties, MetaPropertiesError, type MetaProperties } from './meta-properties.ts';
import { deleteOldSegments } from './retention.ts';

export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';
const DELETE_DIR_SUFFIX = '-delete';
/** `__cluster_metadata-0`: never a partition of the log manager's. */
export const METADATA_LOG_DIR = '__cluster_metadata-0';
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LogManagerOptions {
  /** `log.dirs`. */
  logDirs: string[];
  /** Topic config defaults from the broker's `log.*` properties. */
  defaultConfig: LogConfig;
  /** Effective config of a topic found on disk at start (overrides from metadata). */
  topicConfig?: (topic: string) => LogConfig;
  logger: Logger;
  clock?: Clock;
  /** The containment seam for periodic tasks and delayed deletions; wall clock when absent. */
  scheduler?: Scheduler;
  /** Expected identity; when set, meta.properties is checked or, if missing, written. */
  meta?: { clusterId: string; nodeId: number };
  /** `num.recovery.threads.per.data.dir` (2): logs loaded at once per log dir. */
  recoveryThreadsPerDataDir?: number;
  /** `log.retention.check.interval.ms` (300000). */
  retentionCheckIntervalMs?: number;
  /** `log.flush.offset.checkpoint.interval.ms` (60000). */
  flushOffsetCheckpointIntervalMs?: number;
  /** `log.flush.start.offset.checkpoint.interval.ms` (60000). */
  flushStartOffsetCheckpointIntervalMs?: number;
  /** `replica.high.watermark.checkpoint.interval.ms` (5000). */
  highWatermarkCheckpointIntervalMs?: number;
  /** `log.flush.scheduler.interval.ms` (Long.MAX: never). */
  flushSchedulerIntervalMs?: number;
  /** `log.segment.delete.delay.ms` applied to deleted partition directories (60000). */
  fileDeleteDelayMs?: number;
  /** Broker epoch written into `.kafka_cleanshutdown` (-1 when unknown). */
  brokerEpoch?: number;
  /** `log.cleaner.enable` (true): compaction of cleanup.policy=compact logs. */
  cleanerEnable?: boolean;
  /** `log.cleaner.backoff.ms` (15000): pause between cleaner passes. */
  cleanerBackoffMs?: number;
  /** `log.cleaner.dedupe.buffer.size` (134217728). */
  dedupeBufferSize?: number;
  /** Whether to start the periodic tasks (default true). */
  scheduleTasks?: boolean;
}

interface LoadedDir {
  dir: string;
  meta: MetaProperties | null;
}

/** Parses `<topic>-<partition>`; null for other names. */
export function parseTopicPartitionDir(name: string): { topic: string; partition: number } | null {
  const dash = name.lastIndexOf('-');
  if (dash <= 0) return null;
  const part = name.slice(dash + 1);
  if (!/^\d+$/.test(part)) return null;
  return { topic: name.slice(0, dash), partition: Number(part) };
}

export class LogManager {
  readonly logDirs: readonly string[];
  private readonly logs = new Map<string, { log: Log; logDir: string }>();
  private readonly opts: LogManagerOptions;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly timers: TimerHandle[] = [];
  private readonly scheduler: Scheduler;
  private readonly offlineDirs = new Set<string>();
  private readonly dirMeta = new Map<string, MetaProperties | null>();
  /** cleaner-offset-checkpoint entries by partition key (owned by the cleaner). */
  readonly cleanerCheckpoints = new Map<string, number>();
  private creating = new Map<string, Promise<Log>>();
  private readonly cleaner: LogCleaner;
  private placing = new Map<string, string>();
  private shuttingDown = false;

  private constructor(opts: LogManagerOptions) {
    this.opts = opts;
    this.logDirs = opts.logDirs.map((d) => path.resolve(d));
    this.logger = opts.logger;
    this.clock = opts.clock ?? systemClock;
    this.scheduler = opts.scheduler ?? new SystemScheduler({ logger: opts.logger });
    const clock = this.clock;
    this.cleaner = new LogCleaner({ logger: this.logger.child({ module: 'log-cleaner' }), now: () => clock.now(), dedupeBufferSize: opts.dedupeBufferSize ?? 128 * 1024 * 1024 });
  }

  /** Loads every log in every log dir and starts the periodic tasks. */
  static async start(opts: LogManagerOptions): Promise<LogManager> {
    const mgr = new LogManager(opts);
    for (const dir of mgr.logDirs) {
      const loaded = await mgr.prepareDir(dir);
      mgr.dirMeta.set(dir, loaded.meta);
    }
    await Promise.all(mgr.logDirs.map((d) => mgr.loadDir(d)));
    if (opts.scheduleTasks ?? true) mgr.startTasks();
    return mgr;
  }

  private async prepareDir(dir: string): Promise<LoadedDir> {
    await fs.promises.mkdir(dir, { recursive: true });
    let meta = await readMetaProperties(dir);
    const want = this.opts.meta;
    if (want !== undefined) {
      if (meta === null) {
        meta = { version: 1, clusterId: want.clusterId, nodeId: want.nodeId, directoryId: randomUuid() };
        await writeMetaProperties(dir, meta);
      } else if (meta.clusterId !== want.clusterId) {
        throw new MetaPropertiesError(`Invalid cluster.id in: ${dir}. Expected ${want.clusterId}, but read ${meta.clusterId}`);
      } else if (meta.nodeId !== want.nodeId) {
        throw new MetaPropertiesError(`Stored node id ${meta.nodeId} doesn't match previous node id ${want.nodeId} in ${dir}.`);
      }
    }
    return { dir, meta };
  }

  private configFor(topic: string): LogConfig {
    return this.opts.topicConfig?.(topic) ?? this.opts.defaultConfig;
  }

  private async loadDir(dir: string): Promise<void> {
    const cleanFile = path.join(dir, CLEAN_SHUTDOWN_FILE);
    const hadCleanShutdown = fs.existsSync(cleanFile);
    const byKey = (entries: TopicPartitionOffset[]) => new Map(entries.map((e) => [topicPartitionKey(e.topic, e.partition), e.offset]));
    const recoveryPoints = byKey(await readOffsetCheckpoint(path.join(dir, RECOVERY_POINT_CHECKPOINT_FILE)));
    const startOffsets = byKey(await readOffsetCheckpoint(path.join(dir, LOG_START_OFFSET_CHECKPOINT_FILE)));
    const highWatermarks = byKey(await readOffsetCheckpoint(path.join(dir, REPLICATION_OFFSET_CHECKPOINT_FILE)));
    for (const [k, v] of byKey(await readOffsetCheckpoint(path.join(dir, CLEANER_OFFSET_CHECKPOINT_FILE)))) this.cleanerCheckpoints.set(k, v);
    const entries = await fs.promises.readdir(dir, { withFileTypes: true });
    const toLoad: { name: string; topic: string; partition: number }[] = [];
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      if (e.name.endsWith(DELETE_DIR_SUFFIX)) {
        this.scheduleDirRemoval(path.join(dir, e.name));
        continue;
      }
      if (e.name.endsWith('-future') || e.name.endsWith('-stray')) continue;
      // The metadata log belongs to the Raft layer, which opens it itself.
      if (e.name === METADATA_LOG_DIR) continue;
      const tp = parseTopicPartitionDir(e.name);
      if (tp !== null) toLoad.push({ name: e.name, ...tp });
    }
    const threads = Math.max(1, this.opts.recoveryThreadsPerDataDir ?? 2);
    let next = 0;
    const started = this.clock.now();
    const worker = async (): Promise<void> => {
      while (next < toLoad.length) {
        const item = toLoad[next++]!;
        const key = topicPartitionKey(item.topic, item.partition);
        const log = await Log.open({
          dir: path.join(dir, item.name),
          topic: item.topic,
          partition: item.partition,
          config: this.configFor(item.topic),
          logger: this.logger.child({ topic: item.topic, partition: item.partition }),
          clock: this.clock,
          scheduler: this.scheduler,
          onOffline: (err) => this.markOffline(dir, err),
          recoveryPoint: hadCleanShutdown ? Number.MAX_SAFE_INTEGER : (recoveryPoints.get(key) ?? 0),
          logStartOffset: startOffsets.get(key) ?? 0,
          highWatermark: highWatermarks.get(key) ?? 0,
          hadCleanShutdown,
        });
        this.logs.set(key, { log, logDir: dir });
      }
    };
    await Promise.all(Array.from({ length: Math.min(threads, toLoad.length) }, worker));
    if (hadCleanShutdown) await fs.promises.rm(cleanFile, { force: true });
    this.logger.info({ logDir: dir, logs: toLoad.length, hadCleanShutdown, ms: this.clock.now() - started }, 'loaded logs');
  }

  private startTasks(): void {
    const every = (ms: number | undefined, dflt: number, name: string, fn: () => Promise<unknown>): void => {
      const interval = ms ?? dflt;
      if (!(interval > 0) || interval > MAX_TIMER_MS) return;
      const scope = { unit: 'log-task', context: { task: name } };
      this.timers.push(this.scheduler.every(interval, scope, () => (this.shuttingDown ? undefined : fn())));
    };
    every(this.opts.retentionCheckIntervalMs, 300_000, 'retention', () => this.retentionCheck());
    every(this.opts.flushOffsetCheckpointIntervalMs, 60_000, 'recovery-point-checkpoint', () => this.checkpointRecoveryOffsets());
    every(this.opts.flushStartOffsetCheckpointIntervalMs, 60_000, 'log-start-offset-checkpoint', () => this.checkpointLogStartOffsets());
    every(this.opts.highWatermarkCheckpointIntervalMs, 5_000, 'replication-offset-checkpoint', () => this.checkpointHighWatermarks());
    every(this.opts.flushSchedulerIntervalMs, Number.MAX_SAFE_INTEGER, 'flush', () => this.flushDirtyLogs());
    if (this.opts.cleanerEnable ?? true) every(this.opts.cleanerBackoffMs, 15_000, 'log-cleaner', () => this.cleanLogs());
  }

  // ---- access ----------------------------------------------------------------------------

  getLog(topic: string, partition: number): Log | undefined {
    return this.logs.get(topicPartitionKey(topic, partition))?.log;
  }

  allLogs(): Log[] {
    return [...this.logs.values()].map((e) => e.log);
  }

  logDirOf(topic: string, partition: number): string | undefined {
    return this.logs.get(topicPartitionKey(topic, partition))?.logDir;
  }

  metaProperties(logDir: string): MetaProperties | null | undefined {
    return this.dirMeta.get(path.resolve(logDir));
  }

  /** The log of a partition, created (in the log dir with the fewest logs) if absent. */
  getOrCreateLog(topic: string, partition: number, config?: LogConfig): Promise<Log> {
    const key = topicPartitionKey(topic, partition);
    const existing = this.logs.get(key);
    if (existing !== undefined) return Promise.resolve(existing.log);
    const pending = this.creating.get(key);
    if (pending !== undefined) return pending;
    if (this.shuttingDown) return Promise.reject(new Error('log manager is shutting down'));
    const counts = new Map(this.logDirs.map((d) => [d, 0]));
    for (const e of this.logs.values()) counts.set(e.logDir, (counts.get(e.logDir) ?? 0) + 1);
    for (const d of this.placing.values()) counts.set(d, (counts.get(d) ?? 0) + 1);
    let logDir = this.logDirs[0]!;
    for (const d of this.logDirs) if (counts.get(d)! < counts.get(logDir)!) logDir = d;
    this.placing.set(key, logDir);
    const p = (async () => {
      const log = await Log.open({
        dir: path.join(logDir, key),
        topic,
        partition,
        config: config ?? this.configFor(topic),
        logger: this.logger.child({ topic, partition }),
        clock: this.clock,
        scheduler: this.scheduler,
        onOffline: (err) => this.markOffline(logDir, err),
        hadCleanShutdown: true,
      });
      this.logs.set(key, { log, logDir });
      this.logger.info({ topic, partition, logDir }, 'created log');
      return log;
    })().finally(() => {
      this.creating.delete(key);
      this.placing.delete(key);
    });
    this.creating.set(key, p);
    return p;
  }

  /** Applies a changed topic config to its open logs. */
  updateTopicConfig(topic: string, config: LogConfig): void {
    for (const e of this.logs.values()) if (e.log.topic === topic) e.log.config = config;
  }

  /**
   * Deletes a partition's log: closes it, renames its directory to
   * `<topic>-<partition>.<uuid hex>-delete`, removes it after the delay, and rewrites the
   * checkpoints without it.
   */
  async deleteLog(topic: string, partition: number): Promise<boolean> {
    const key = topicPartitionKey(topic, partition);
    const entry = this.logs.get(key);
    if (entry === undefined) return false;
    this.logs.delete(key);
    this.cleanerCheckpoints.delete(key);
    await entry.log.closeHandles();
    const renamed = path.join(entry.logDir, `${key}.${randomUUID().replaceAll('-', '')}${DELETE_DIR_SUFFIX}`);
    await fs.promises.rename(entry.log.dir, renamed);
    this.logger.info({ topic, partition, dir: renamed }, 'log scheduled for deletion');
    this.scheduleDirRemoval(renamed);
    await this.writeCheckpoints(entry.logDir);
    return true;
  }

  private scheduleDirRemoval(dir: string): void {
    const scope = { unit: 'log-task', context: { task: 'delete-dir', dir } };
    this.timers.push(
      this.scheduler.schedule(this.opts.fileDeleteDelayMs ?? 60_000, scope, () =>
        fs.promises.rm(dir, { recursive: true, force: true }).catch((err) => this.logger.warn({ err, dir }, 'could not remove deleted log directory')),
      ),
    );
  }

  /** A log of `logDir` went offline: the dir is offline, and with none left the node stops. */
  private markOffline(logDir: string, err: Error): void {
    if (this.offlineDirs.has(logDir)) return;
    this.offlineDirs.add(logDir);
    this.logger.error({ logDir, err }, 'log directory is offline after an I/O error');
    if (this.offlineDirs.size < this.logDirs.length || this.shuttingDown) return;
    this.scheduler.run({ unit: 'log-dir', context: { logDir } }, () => {
      throw new FatalError(`all log directories are offline (${this.logDirs.join(', ')}); last error: ${err.message}`, { cause: err });
    });
  }

  /** Log dirs taken offline by I/O errors. */
  get offlineLogDirs(): readonly string[] {
    return [...this.offlineDirs];
  }

  // ---- periodic work ---------------------------------------------------------------------

  /** One retention pass over every log; returns the number of segments deleted. */
  async retentionCheck(): Promise<number> {
    let deleted = 0;
    const now = this.clock.now();
    for (const log of this.allLogs()) {
      try {
        deleted += await deleteOldSegments(log, now);
      } catch (err) {
        this.logger.error({ err, topic: log.topic, partition: log.partition }, 'retention check failed');
      }
    }
    if (deleted > 0) await this.checkpointLogStartOffsets();
    return deleted;
  }

  /**
   * One cleaner round: compacts the dirtiest compacted log whose dirty ratio reaches its
   * min.cleanable.dirty.ratio (or whose tombstones passed their delete horizon), then records
   * the new cleaner checkpoint. Returns the log cleaned, if any.
   */
  async cleanLogs(): Promise<Log | null> {
    let best: { log: Log; ratio: number } | null = null;
    for (const log of this.allLogs()) {
      if (log.isClosed || log.isOffline || !isCompacted(log.config)) continue;
      const key = topicPartitionKey(log.topic, log.partition);
      const range = this.cleaner.cleanableRange(log, this.cleanerCheckpoints.get(key));
      if (range === null) continue;
      const due = range.dirtyRatio >= log.config.minCleanableDirtyRatio || this.cleaner.tombstonesExpired(log);
      if (due && (best === null || range.dirtyRatio > best.ratio)) best = { log, ratio: range.dirtyRatio };
    }
    if (best === null) return null;
    const log = best.log;
    const key = topicPartitionKey(log.topic, log.partition);
    const result = await this.cleaner.clean(log, this.cleanerCheckpoints.get(key), true);
    if (result.cleaned && this.logs.get(key)?.log === log) {
      this.cleanerCheckpoints.set(key, result.endOffset);
      await this.checkpointCleanerOffsets();
    }
    return result.cleaned ? log : null;
  }

  /** flush.ms: flushes logs whose last flush is older than their flush.ms. */
  async flushDirtyLogs(): Promise<void> {
    for (const log of this.allLogs()) {
      if (log.isClosed) continue;
      await log.maybeFlushByTime().catch((err) => this.logger.error({ err, topic: log.topic, partition: log.partition }, 'flush failed'));
    }
  }

  private entriesOf(logDir: string, value: (log: Log) => number): TopicPartitionOffset[] {
    const out: TopicPartitionOffset[] = [];
    for (const e of this.logs.values()) if (e.logDir === logDir) out.push({ topic: e.log.topic, partition: e.log.partition, offset: value(e.log) });
    return out;
  }

  async checkpointRecoveryOffsets(): Promise<void> {
    for (const d of this.logDirs) await writeOffsetCheckpoint(path.join(d, RECOVERY_POINT_CHECKPOINT_FILE), this.entriesOf(d, (l) => l.recoveryPoint));
  }

  async checkpointLogStartOffsets(): Promise<void> {
    // Kafka writes only logs whose start offset is above their first segment's base.
    for (const d of this.logDirs) await writeOffsetCheckpoint(path.join(d, LOG_START_OFFSET_CHECKPOINT_FILE), this.entriesOf(d, (l) => l.logStartOffset).filter((e) => e.offset > 0));
  }

  async checkpointHighWatermarks(): Promise<void> {
    for (const d of this.logDirs) await writeOffsetCheckpoint(path.join(d, REPLICATION_OFFSET_CHECKPOINT_FILE), this.entriesOf(d, (l) => l.highWatermark));
  }

  async checkpointCleanerOffsets(): Promise<void> {
    for (const d of this.logDirs) {
      const entries: TopicPartitionOffset[] = [];
      for (const e of this.logs.values()) {
        if (e.logDir !== d) continue;
        const off = this.cleanerCheckpoints.get(topicPartitionKey(e.log.topic, e.log.partition));
        if (off !== undefined) entries.push({ topic: e.log.topic, partition: e.log.partition, offset: off });
      }
      await writeOffsetCheckpoint(path.join(d, CLEANER_OFFSET_CHECKPOINT_FILE), entries);
    }
  }

  private async writeCheckpoints(logDir: string): Promise<void> {
    await writeOffsetCheckpoint(path.join(logDir, RECOVERY_POINT_CHECKPOINT_FILE), this.entriesOf(logDir, (l) => l.recoveryPoint));
    await writeOffsetCheckpoint(path.join(logDir, LOG_START_OFFSET_CHECKPOINT_FILE), this.entriesOf(logDir, (l) => l.logStartOffset).filter((e) => e.offset > 0));
    await writeOffsetCheckpoint(path.join(logDir, REPLICATION_OFFSET_CHECKPOINT_FILE), this.entriesOf(logDir, (l) => l.highWatermark));
  }

  /**
   * Clean shutdown: stops the periodic tasks, closes (flushes) every log, writes the
   * checkpoints and leaves `.kafka_cleanshutdown` in each log dir. `clean: false` only closes
   * the logs, leaving no checkpoints and no marker, so the next start recovers as after a crash.
   */
  async shutdown(opts: { clean?: boolean } = {}): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const t of this.timers) t.cancel();
    await Promise.allSettled([...this.creating.values()]);
    const results = await Promise.allSettled(this.allLogs().map((l) => l.close()));
    const failed = results.filter((r) => r.status === 'rejected');
    for (const r of failed) this.logger.error({ err: (r as PromiseRejectedResult).reason }, 'closing a log failed');
    if (opts.clean === false) return;
    await this.checkpointCleanerOffsets();
    for (const d of this.logDirs) {
      await this.writeCheckpoints(d);
      if (failed.length === 0) {
        await fs.promises.writeFile(path.join(d, CLEAN_SHUTDOWN_FILE), JSON.stringify({ version: 0, brokerEpoch: this.opts.brokerEpoch ?? -1 }));
      }
    }
    this.logger.info('log manager shut down');
  }
}

export { writeMetaProperties, readMetaProperties };
