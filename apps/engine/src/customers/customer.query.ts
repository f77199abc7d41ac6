import { Inject, NotFoundException } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { customerStreamId, eventsAsOf, foldCustomer, type CustomerState } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { CUSTOMERS, READ_MODEL_STORE, customerDocId, type ReadModelStore } from '@journey/read-models';

export type CustomerView = CustomerState & { position: string; asOf?: string };

/**
 * GET /v1/customers/:id: the current state from the `customers` read model; with `asOf`, folded from the customer's
 * stream (the per-customer index of the log), so it is exact at any moment.
 */
export class CustomerQuery extends Query<CustomerView> {
  constructor(
    readonly workspaceId: string,
    readonly customerId: string,
    readonly asOf?: Date,
  ) {
    super();
  }
}

@QueryHandler(CustomerQuery)
export class CustomerHandler implements IQueryHandler<CustomerQuery> {
  constructor(
    @Inject(READ_MODEL_STORE) private readonly store: ReadModelStore,
    @Inject(EVENT_STORE) private readonly events: EventStore,
  ) {}

  async execute({ workspaceId, customerId: id, asOf }: CustomerQuery): Promise<CustomerView> {
    if (asOf) {
      const events = eventsAsOf(await this.events.readStream(customerStreamId(workspaceId, id)), asOf);
      if (events.length === 0) throw new NotFoundException(`customer "${id}" had no events as of ${asOf.toISOString()}`);
      return {
        ...foldCustomer(workspaceId, id, events),
        position: events[events.length - 1].position.toString(),
        asOf: asOf.toISOString(),
      };
    }
    const stored = await this.store.get<CustomerState>(CUSTOMERS, customerDocId(workspaceId, id));
    if (!stored) throw new NotFoundException(`customer "${id}" not found`);
    return { ...stored.doc, position: stored.pos.toString() };
  }
}
