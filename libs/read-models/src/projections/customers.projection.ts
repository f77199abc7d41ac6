import { evolveCustomer, initialCustomerState, type CustomerState, type RecordedEvent } from '@journey/domain';
import { DocBatch, type DocLookup, type DocRef, type Projection, type PutDoc, type SearchableCollection } from '../projection';

export const CUSTOMERS = 'customers';

/** Document id of a customer: unambiguous whatever characters the ids contain. */
export function customerDocId(workspaceId: string, customerId: string): string {
  return `${encodeURIComponent(workspaceId)}/${encodeURIComponent(customerId)}`;
}

/** Customer events are those of customer streams; they carry the workspace and customer in their metadata. */
function customerOf(e: RecordedEvent): string | undefined {
  return e.streamId.startsWith('customer-') && e.metadata.customerId
    ? customerDocId(e.metadata.workspaceId, e.metadata.customerId)
    : undefined;
}

/**
 * The customers collection, with its search index (`GET /v1/customers?…`): by workspace, the customer id (order and
 * prefix), stage (`''` before identification), lastSeen (`''` before any activity), health; terms: every scalar trait
 * (`traits:<name>`) and every segment the customer is in (`segments`).
 */
export const CUSTOMERS_COLLECTION: SearchableCollection = {
  name: CUSTOMERS,
  indexes: [['workspaceId', 'stage']],
  search: {
    partition: 'workspaceId',
    key: 'customerId',
    fields: { stage: '', lastSeen: '', health: 0 },
    terms: { traits: 'map', segments: 'set' },
  },
};

/** `customers`: one `CustomerState` per customer (any event of its stream creates it), queryable by workspace and stage. */
export const customersProjection: Projection = {
  name: CUSTOMERS,
  collections: [CUSTOMERS_COLLECTION],
  reads(events: readonly RecordedEvent[]): DocRef[] {
    const ids = new Set<string>();
    for (const e of events) {
      const id = customerOf(e);
      if (id) ids.add(id);
    }
    return [...ids].map((id) => ({ collection: CUSTOMERS, id }));
  },
  apply(events: readonly RecordedEvent[], docs: DocLookup): PutDoc[] {
    const batch = new DocBatch(docs);
    for (const e of events) {
      const id = customerOf(e);
      if (!id) continue;
      batch.update<CustomerState>(
        CUSTOMERS,
        id,
        e.position,
        () => initialCustomerState(e.metadata.workspaceId, e.metadata.customerId),
        (s) => evolveCustomer(s, e),
      );
    }
    return batch.puts();
  },
};
