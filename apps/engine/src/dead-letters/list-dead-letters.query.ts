import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { DeadLetter } from '@journey/domain';
import { EVENT_STORE, listDeadLetters, type EventStore } from '@journey/event-store';

/** GET /v1/admin/dead-letters: the workspace's dead letters, from its dead-letter stream in the log. */
export class ListDeadLettersQuery extends Query<{ deadLetters: DeadLetter[] }> {
  constructor(readonly workspaceId: string) {
    super();
  }
}

@QueryHandler(ListDeadLettersQuery)
export class ListDeadLettersHandler implements IQueryHandler<ListDeadLettersQuery> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ workspaceId }: ListDeadLettersQuery): Promise<{ deadLetters: DeadLetter[] }> {
    return { deadLetters: await listDeadLetters(this.store, workspaceId) };
  }
}
