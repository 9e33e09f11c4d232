import { describe, expect, it } from 'vitest';
import { parseServerProperties } from '../config/server-properties.ts';
import { bootstrapServers, clusterShape, planNodes, portsNeeded, quorumVoters, serverProperties } from './cluster-layout.ts';

const ports = (n: number): number[] => Array.from({ length: n }, (_, i) => 19092 + i);

describe('cluster shape', () => {
  it('takes --nodes alone, or --controllers with --brokers', () => {
    expect(clusterShape({ nodes: 3 })).toEqual({ combined: 3, controllers: 0, brokers: 0 });
    expect(clusterShape({ controllers: 3, brokers: 2 })).toEqual({ combined: 0, controllers: 3, brokers: 2 });
    expect(clusterShape({ nodes: 5, controllers: 3, brokers: 2 })).toEqual({ combined: 0, controllers: 3, brokers: 2 });
    expect(() => clusterShape({})).toThrow('Missing required option --nodes (or --controllers and --brokers)');
    expect(() => clusterShape({ nodes: 0 })).toThrow('--nodes must be at least 1');
    expect(() => clusterShape({ controllers: 3 })).toThrow('--controllers and --brokers go together');
    expect(() => clusterShape({ nodes: 4, controllers: 3, brokers: 2 })).toThrow('--nodes 4 does not equal --controllers 3 plus --brokers 2');
    expect(portsNeeded(clusterShape({ nodes: 3 }))).toBe(9);
    expect(portsNeeded(clusterShape({ controllers: 3, brokers: 2 }))).toBe(10);
  });
});

describe('server.properties of each node', () => {
  it('writes a combined node in Kafka\'s KRaft format', () => {
    const nodes = planNodes(clusterShape({ nodes: 3 }), '/srv/c', ports(9));
    expect(quorumVoters(nodes)).toBe('1@127.0.0.1:19093,2@127.0.0.1:19096,3@127.0.0.1:19099');
    expect(bootstrapServers(nodes)).toBe('127.0.0.1:19092,127.0.0.1:19095,127.0.0.1:19098');
    expect(serverProperties(nodes[1]!, nodes)).toBe(
      [
        '# Node 2 of a 3-node Samsa cluster on one machine (broker and controller).',
        '# Written by samsa cluster start; started as: samsa server-start /srv/c/node-2/server.properties',
        '',
        'process.roles=broker,controller',
        'node.id=2',
        'controller.quorum.voters=1@127.0.0.1:19093,2@127.0.0.1:19096,3@127.0.0.1:19099',
        '',
        'listeners=PLAINTEXT://127.0.0.1:19095,CONTROLLER://127.0.0.1:19096',
        'advertised.listeners=PLAINTEXT://127.0.0.1:19095,CONTROLLER://127.0.0.1:19096',
        'controller.listener.names=CONTROLLER',
        'inter.broker.listener.name=PLAINTEXT',
        'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        'http.listeners=http://127.0.0.1:19097',
        '',
        'log.dirs=/srv/c/node-2/data',
        'num.partitions=1',
        'default.replication.factor=3',
        'offsets.topic.replication.factor=3',
        'transaction.state.log.replication.factor=3',
        'transaction.state.log.min.isr=2',
        '',
      ].join('\n'),
    );
  });

  it('gives controller-only nodes only the CONTROLLER listener and broker-only nodes only PLAINTEXT', () => {
    const nodes = planNodes(clusterShape({ controllers: 1, brokers: 2 }), '/srv/c', ports(6));
    expect(nodes.map((n) => [n.nodeId, n.roles.join(','), n.brokerPort, n.controllerPort, n.httpPort])).toEqual([
      [1, 'controller', undefined, 19092, 19093],
      [2, 'broker', 19094, undefined, 19095],
      [3, 'broker', 19096, undefined, 19097],
    ]);
    expect(serverProperties(nodes[0]!, nodes)).toBe(
      [
        '# Node 1 of a 3-node Samsa cluster on one machine (controller).',
        '# Written by samsa cluster start; started as: samsa server-start /srv/c/node-1/server.properties',
        '',
        'process.roles=controller',
        'node.id=1',
        'controller.quorum.voters=1@127.0.0.1:19092',
        '',
        'listeners=CONTROLLER://127.0.0.1:19092',
        'advertised.listeners=CONTROLLER://127.0.0.1:19092',
        'controller.listener.names=CONTROLLER',
        'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        'http.listeners=http://127.0.0.1:19093',
        '',
        'log.dirs=/srv/c/node-1/data',
        'num.partitions=1',
        'default.replication.factor=2',
        'offsets.topic.replication.factor=2',
        'transaction.state.log.replication.factor=2',
        'transaction.state.log.min.isr=2',
        '',
      ].join('\n'),
    );
    expect(serverProperties(nodes[2]!, nodes)).toContain('\nprocess.roles=broker\nnode.id=3\ncontroller.quorum.voters=1@127.0.0.1:19092\n\nlisteners=PLAINTEXT://127.0.0.1:19096\n');
    expect(bootstrapServers(nodes)).toBe('127.0.0.1:19094,127.0.0.1:19096');
  });

  it('every layout is a valid Samsa configuration', () => {
    for (const shape of [{ nodes: 1 }, { nodes: 3 }, { controllers: 3, brokers: 3 }]) {
      const s = clusterShape(shape);
      const nodes = planNodes(s, '/srv/c', ports(portsNeeded(s)));
      for (const node of nodes) {
        const config = parseServerProperties(serverProperties(node, nodes), 'server.properties');
        expect(config.nodeId).toBe(node.nodeId);
        expect([...config.processRoles]).toEqual(node.roles);
      }
    }
  });
});
