import { createHash } from 'node:crypto';

/** This process handles the customers whose stable hash % count === index. */
export interface Partition {
  index: number;
  count: number;
}

/** Stable across processes and restarts: the same workspace + customer always lands in the same partition. */
export function partitionOf(workspaceId: string, customerId: string, count: number): number {
  return createHash('md5').update(`${workspaceId}\u001f${customerId}`).digest().readUInt32BE(0) % count;
}

/** The `owns` predicate of a process for its partition (all customers when there is none). */
export function ownerOf(partition?: Partition): (workspaceId: string, customerId: string) => boolean {
  if (!partition || partition.count <= 1) return () => true;
  return (workspaceId, customerId) => partitionOf(workspaceId, customerId, partition.count) === partition.index;
}
