import { customerStreamId, envelope, type JourneyEvent } from '@journey/domain';
import type { EventStore } from '@journey/event-store';
import { randomUUID } from 'node:crypto';

/** An ingested-looking event for customer `customerId` of workspace `w`. */
export function customerEvent(
  customerId: string,
  type: string,
  data: Record<string, unknown>,
  occurredAt = new Date().toISOString(),
  workspaceId = 'w',
): JourneyEvent {
  return envelope({ id: randomUUID(), type, data, workspaceId, customerId, occurredAt, recordedAt: occurredAt, source: 'test' });
}

export async function appendToCustomer(store: EventStore, event: JourneyEvent): Promise<bigint> {
  const result = await store.appendToStream(customerStreamId(event.metadata.workspaceId, event.metadata.customerId), [event]);
  return result.position;
}
