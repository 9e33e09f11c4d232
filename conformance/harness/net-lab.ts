// A small network made by a test, for partition faults between real processes: one network
// namespace per node, each with a veth into a switch namespace (a bridge), and one veth from the
// test's own namespace into the switch so the test and its clients reach every node. A node is
// cut off from the other nodes (not from the test) with blackhole routes on both sides, and
// healed by removing them. Addresses are 10.<a>.<b>.<node id>/24 with a random /24 per lab, and
// every name carries a random suffix, so labs of concurrent tests do not meet. Everything is
// removed by destroy() (deleting a namespace removes its veths). Needs root and iproute2;
// `NetLab.available()` says why not where it cannot run.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

async function ip(...args: string[]): Promise<void> {
  await run('ip', args, { timeout: 10_000 });
}

export class NetLab {
  private readonly cuts = new Set<number>();

  private constructor(
    private readonly suffix: string,
    private readonly subnet: string,
    readonly nodeIds: readonly number[],
  ) {}

  /** Null when labs can be made here, else the reason (for a visible skip). */
  static async available(): Promise<string | null> {
    if (process.platform !== 'linux') return 'network namespaces need Linux';
    if (process.getuid?.() !== 0) return 'network namespaces need root';
    const probe = `samsa-probe-${randomBytes(3).toString('hex')}`;
    try {
      await ip('netns', 'add', probe);
      await ip('netns', 'del', probe);
      return null;
    } catch (err) {
      return `cannot create a network namespace (${(err as Error).message.split('\n')[0]})`;
    }
  }

  /** Makes the namespaces, switch and links for nodes `nodeIds` (each id 1..253). */
  static async create(nodeIds: readonly number[]): Promise<NetLab> {
    const bytes = randomBytes(4);
    const lab = new NetLab(bytes.subarray(0, 2).toString('hex'), `10.${100 + (bytes[2]! % 150)}.${bytes[3]!}`, nodeIds);
    try {
      await lab.build();
    } catch (err) {
      await lab.destroy();
      throw err;
    }
    return lab;
  }

  private get switchNs(): string {
    return `samsa-sw-${this.suffix}`;
  }

  /** The namespace node `id` runs in. */
  namespaceOf(id: number): string {
    return `samsa-n${id}-${this.suffix}`;
  }

  /** The address of node `id`, reachable from the test's namespace. */
  hostOf(id: number): string {
    return `${this.subnet}.${id}`;
  }

  /** Prefix for a command that must run inside node `id`'s namespace. */
  commandPrefix(id: number): string[] {
    return ['ip', 'netns', 'exec', this.namespaceOf(id)];
  }

  private async build(): Promise<void> {
    const sw = this.switchNs;
    await ip('netns', 'add', sw);
    await ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', sw, 'link', 'set', 'br0', 'up');
    for (const id of this.nodeIds) {
      const ns = this.namespaceOf(id);
      const inner = `sv${id}-${this.suffix}`;
      const outer = `sp${id}-${this.suffix}`;
      await ip('netns', 'add', ns);
      await ip('link', 'add', inner, 'type', 'veth', 'peer', 'name', outer);
      await ip('link', 'set', inner, 'netns', ns);
      await ip('link', 'set', outer, 'netns', sw);
      await ip('-n', sw, 'link', 'set', outer, 'master', 'br0', 'up');
      await ip('-n', ns, 'addr', 'add', `${this.hostOf(id)}/24`, 'dev', inner);
      await ip('-n', ns, 'link', 'set', inner, 'up');
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    // The test's own way in: a veth from this namespace into the switch.
    const host = `sh-${this.suffix}`;
    const hostPeer = `shp-${this.suffix}`;
    await ip('link', 'add', host, 'type', 'veth', 'peer', 'name', hostPeer);
    await ip('link', 'set', hostPeer, 'netns', sw);
    await ip('-n', sw, 'link', 'set', hostPeer, 'master', 'br0', 'up');
    await ip('addr', 'add', `${this.subnet}.254/24`, 'dev', host);
    await ip('link', 'set', host, 'up');
  }

  /** Cuts node `id` off from every other node, both ways; the test still reaches it. */
  async cut(id: number): Promise<void> {
    if (this.cuts.has(id)) return;
    this.cuts.add(id);
    for (const other of this.nodeIds) {
      if (other === id) continue;
      await ip('-n', this.namespaceOf(id), 'route', 'add', 'blackhole', `${this.hostOf(other)}/32`);
      await ip('-n', this.namespaceOf(other), 'route', 'add', 'blackhole', `${this.hostOf(id)}/32`);
    }
  }

  async heal(id: number): Promise<void> {
    if (!this.cuts.delete(id)) return;
    for (const other of this.nodeIds) {
      if (other === id) continue;
      await ip('-n', this.namespaceOf(id), 'route', 'del', 'blackhole', `${this.hostOf(other)}/32`).catch(() => undefined);
      await ip('-n', this.namespaceOf(other), 'route', 'del', 'blackhole', `${this.hostOf(id)}/32`).catch(() => undefined);
    }
  }

  /** Removes every namespace and link of this lab (processes inside must have ended). */
  async destroy(): Promise<void> {
    await ip('link', 'del', `sh-${this.suffix}`).catch(() => undefined);
    for (const id of this.nodeIds) await ip('netns', 'del', this.namespaceOf(id)).catch(() => undefined);
    await ip('netns', 'del', this.switchNs).catch(() => undefined);
  }
}
