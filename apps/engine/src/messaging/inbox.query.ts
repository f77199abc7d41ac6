import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { customerStreamId } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { inboxFromStream, type InboxMessage } from '@journey/messaging';

/** GET /v1/customers/:id/inbox: delivered inbox messages, newest first, read from the customer's stream. */
export class InboxQuery extends Query<{ customerId: string; messages: InboxMessage[] }> {
  constructor(
    readonly workspaceId: string,
    readonly customerId: string,
  ) {
    super();
  }
}

@QueryHandler(InboxQuery)
export class InboxHandler implements IQueryHandler<InboxQuery> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ workspaceId, customerId }: InboxQuery): Promise<{ customerId: string; messages: InboxMessage[] }> {
    return { customerId, messages: inboxFromStream(await this.store.readStream(customerStreamId(workspaceId, customerId))) };
  }
}
