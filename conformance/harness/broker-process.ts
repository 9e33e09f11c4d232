// Starts a real Samsa broker as a child process on free loopback ports, for conformance and
// fault tests. The broker is started as `npm start` starts it (broker/launch.cjs); only its
// listeners and data directory are overridden. Stops only the process it started, by pid.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeChild } from './node-child.ts';
import { freePort } from './ports.ts';

export { freePort };

export interface BrokerProcessOptions {
  /** Data directory to reuse (e.g. across a restart); a new temporary one by default. */
  dataDir?: string;
  port?: number;
  controllerPort?: number;
  overrides?: Record<string, string>;
  /** How long to wait for "broker started". */
  startTimeoutMs?: number;
}

export class BrokerProcess {
  readonly dataDir: string;
  readonly port: number;
  readonly controllerPort: number;
  private readonly child = new NodeChild('broker');
  private readonly ownDir: boolean;
  private readonly overrides: Record<string, string>;
  private readonly startTimeoutMs: number;

  private constructor(dataDir: string, ownDir: boolean, port: number, controllerPort: number, opts: BrokerProcessOptions) {
    this.dataDir = dataDir;
    this.ownDir = ownDir;
    this.port = port;
    this.controllerPort = controllerPort;
    this.overrides = opts.overrides ?? {};
    this.startTimeoutMs = opts.startTimeoutMs ?? 30_000;
  }

  static async start(opts: BrokerProcessOptions = {}): Promise<BrokerProcess> {
    const ownDir = opts.dataDir === undefined;
    const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'samsa-conf-')));
    const b = new BrokerProcess(dataDir, ownDir, opts.port ?? (await freePort()), opts.controllerPort ?? (await freePort()), opts);
    await b.launch();
    return b;
  }

  get bootstrap(): string {
    return `127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Everything the broker printed (pino JSON lines), for assertions and failure reports. */
  get logs(): string {
    return this.child.logs;
  }

  async launch(): Promise<void> {
    const overrides: Record<string, string> = {
      listeners: `PLAINTEXT://127.0.0.1:${this.port},CONTROLLER://127.0.0.1:${this.controllerPort}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${this.port}`,
      'controller.quorum.voters': `1@127.0.0.1:${this.controllerPort}`,
      'log.dirs': this.dataDir,
      // Metrics and health on a free port: brokers of concurrent tests would share a fixed one.
      'http.listeners': 'http://127.0.0.1:0',
      ...this.overrides,
    };
    // SAMSA_BROKER_NODE_ARGS adds Node flags for the broker only (e.g. `--cpu-prof` when profiling a benchmark).
    const nodeArgs = (process.env.SAMSA_BROKER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const launcherArgs = Object.entries(overrides).flatMap(([k, v]) => ['--override', `${k}=${v}`]);
    await this.child.start({ nodeArgs, launcherArgs, timeoutMs: this.startTimeoutMs });
  }

  /** Sends a signal and waits for the process to exit; resolves with its exit code. */
  stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<number | null> {
    return this.child.stop(signal, timeoutMs);
  }

  /** Starts the same broker again on the same ports and data. */
  async restart(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.stop(signal);
    await this.launch();
  }

  /** Stops the process and removes the data directory if this harness created it. */
  async destroy(): Promise<void> {
    // With Node flags given (a profiler, say), stop cleanly so the process writes its output at exit.
    await this.stop(process.env.SAMSA_BROKER_NODE_ARGS ? 'SIGTERM' : 'SIGKILL');
    if (this.ownDir) await rm(this.dataDir, { recursive: true, force: true });
  }
}
