import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import {
  CONVERSATION_CONTACTS,
  CONVERSATION_FACTS,
  READ_MODEL_STORE,
  TASK_FACTS,
  conversationFigures,
  type ConversationAnalytics,
  type ConversationContactsDoc,
  type ConversationFactDoc,
  type ConversationGroupBy,
  type ReadModelStore,
  type TaskFactDoc,
} from '@journey/read-models';

/** GET /v1/analytics/conversations: the conversation figures of a workspace over [from, to), overall and per group. */
export class ConversationAnalyticsQuery extends Query<ConversationAnalytics> {
  constructor(
    readonly workspaceId: string,
    readonly from: Date,
    readonly to: Date,
    readonly groupBy?: ConversationGroupBy,
  ) {
    super();
  }
}

/**
 * Exact figures from every document of the workspace in the `conversation-analytics` read model (the same code over
 * SQLite and MongoDB): the percentiles are by nearest rank over all the durations, not estimated.
 */
@QueryHandler(ConversationAnalyticsQuery)
export class ConversationAnalyticsHandler implements IQueryHandler<ConversationAnalyticsQuery> {
  constructor(@Inject(READ_MODEL_STORE) private readonly store: ReadModelStore) {}

  async execute({ workspaceId, from, to, groupBy }: ConversationAnalyticsQuery): Promise<ConversationAnalytics> {
    const [facts, contacts, tasks] = await Promise.all([
      this.store.find<ConversationFactDoc>(CONVERSATION_FACTS, { workspaceId }),
      this.store.find<ConversationContactsDoc>(CONVERSATION_CONTACTS, { workspaceId }),
      this.store.find<TaskFactDoc>(TASK_FACTS, { workspaceId }),
    ]);
    return conversationFigures(
      facts.map((d) => d.doc),
      contacts.map((d) => d.doc),
      { from, to, ...(groupBy && { groupBy }) },
      tasks.map((d) => d.doc),
    );
  }
}
