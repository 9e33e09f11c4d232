// JoinGroup (key 11), v0-v9, served by the classic group coordinator. v0 has no rebalance
// timeout (the session timeout stands in), v4+ requires a member id (KIP-394: the first join gets
// MEMBER_ID_REQUIRED with one), v5+ carries group.instance.id (KIP-345), v8+ a reason. The
// answer waits for the rebalance to complete. skipAssignment (v9) is always false: it is for
// KRaft-migrated consumer groups, which this broker does not have.
import { ApiKey } from '../../protocol/generated/api-table.ts';
import type { JoinGroupResponse } from '../../protocol/generated/message/join-group-response.ts';
import { AclOperation } from '../auth/acl.ts';
import { requireGroup } from '../auth/checks.ts';
import type { BrokerContext } from '../broker-context.ts';
import { readyGroupCoordinator } from '../group/coordinator-setup.ts';
import { defineHandler, inPurgatory, type RequestContext } from './api-handler.ts';

/** Kafka records the client's address as InetAddress.toString(): "/host". */
export function clientHostOf(rc: RequestContext): string {
  const i = rc.clientAddress.lastIndexOf(':');
  const host = i >= 0 ? rc.clientAddress.slice(0, i) : rc.clientAddress;
  return `/${host.replace(/^\[|\]$/g, '')}`;
}

function errorJoin(version: number, errorCode: number, memberId: string): JoinGroupResponse {
  return {
    throttleTimeMs: 0,
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: version >= 7 ? null : '',
    leader: '',
    skipAssignment: false,
    memberId,
    members: [],
  };
}

export function joinGroupHandler(ctx: BrokerContext) {
  return defineHandler({
    apiKey: ApiKey.JoinGroup,
    async handle(req, rc) {
      const v = rc.apiVersion;
      requireGroup(ctx, rc, AclOperation.READ, req.groupId);
      const coordinator = await readyGroupCoordinator(ctx);
      // The join waits for the rebalance: Kafka's DelayedJoin, remote time.
      const r = await inPurgatory(rc, coordinator.joinGroup({
        groupId: req.groupId,
        memberId: req.memberId,
        groupInstanceId: v >= 5 ? (req.groupInstanceId ?? null) : null,
        requireKnownMemberId: v >= 4,
        clientId: rc.clientId ?? '',
        clientHost: clientHostOf(rc),
        rebalanceTimeoutMs: v >= 1 ? (req.rebalanceTimeoutMs ?? req.sessionTimeoutMs) : req.sessionTimeoutMs,
        sessionTimeoutMs: req.sessionTimeoutMs,
        protocolType: req.protocolType,
        protocols: req.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
        reason: v >= 8 ? (req.reason ?? null) : null,
      }));
      return {
        throttleTimeMs: 0,
        errorCode: r.errorCode,
        generationId: r.generationId,
        protocolType: r.protocolType,
        // Before v7 the field is not nullable: Kafka sends "" for no protocol.
        protocolName: r.protocolName ?? (v >= 7 ? null : ''),
        leader: r.leaderId,
        skipAssignment: r.skipAssignment,
        memberId: r.memberId,
        members: r.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata })),
      };
    },
    errorResponse: (req, err, rc) => errorJoin(rc.apiVersion, err.errorCode, req.memberId),
  });
}
