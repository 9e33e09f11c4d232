// Authorized-operations bit sets reported by Metadata and DescribeCluster when a client asks.
// With no authorizer configured, Kafka allows every operation a resource supports; with one,
// broker/auth/checks.ts authorizedOperations keeps the allowed ones.
// Bits are AclOperation codes: READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7, DESCRIBE 8,
// CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12.

const bits = (...ops: number[]): number => ops.reduce((acc, op) => acc | (1 << op), 0);

export const TOPIC_OPERATIONS = bits(3, 4, 5, 6, 7, 8, 10, 11);
export const CLUSTER_OPERATIONS = bits(5, 7, 8, 9, 10, 11, 12);
/** What Kafka puts in the field when the client did not ask. */
export const OPERATIONS_NOT_REQUESTED = -2147483648;
export const GROUP_OPERATIONS = bits(3, 6, 8);
export const TRANSACTIONAL_ID_OPERATIONS = bits(4, 8);
