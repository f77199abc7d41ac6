import { Inject, NotFoundException } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import {
  customerStreamId,
  evolveConversation,
  initialConversationState,
  isConversationEvent,
  triggerStreamId,
  evolveTrigger,
  initialTriggerState,
  type EventDataByType,
  type RecordedEvent,
} from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import {
  CONVERSATION_MESSAGES,
  READ_MODEL_STORE,
  conversationMessageId,
  type ConversationMessageDoc,
  type ReadModelStore,
} from '@journey/read-models';
import { causalChain, describe, TriggerInsightsService, type ExplainedEvent, type MessageExplanation } from './trigger-insights.service';

const RUN_TYPES = new Set(['TriggerMatched', 'TriggerRunStepEntered', 'TriggerRunExited']);

/** The conversation a message belongs to, as it was when the message was decided. */
export interface ConversationOfMessage {
  conversationId: string;
  channel: string;
  status: string;
  team?: string;
  assignee?: string;
  priority: string;
  startedAt?: string;
  /** Held by a person then (automation does not answer in a held conversation). */
  held: boolean;
  /** The agent reply that is this message: by a member, or automated by a trigger run. */
  reply?: { messageId: string; by?: string; automated: boolean; triggerId?: string; runId?: string };
  /** The conversation's events up to the message (bodies left out: the thread is GET /v1/work's). */
  events: ExplainedEvent[];
}

/**
 * A reply in a conversation that no message event carries (an answer in the in-app thread is the AgentReplied itself):
 * the reply, what caused it, the trigger run that sent it when automated, and the conversation.
 */
export interface ConversationReplyExplanation {
  messageId: string;
  customerId: string;
  channel: string;
  status: 'replied';
  decision: { event: ExplainedEvent; outcome: 'replied' };
  causedBy: ExplainedEvent[];
  trigger?: { id: string; name?: string; version?: number; runId: string; run: ExplainedEvent[] };
  guards: [];
  delivery: [];
  conversation: ConversationOfMessage;
}

export type Explanation = (MessageExplanation & { conversation?: ConversationOfMessage }) | ConversationReplyExplanation;

/** GET /v1/messages/:id/explain: why a message was sent or suppressed; in a conversation, the conversation and its run. */
export class ExplainMessageQuery extends Query<Explanation> {
  constructor(
    readonly workspaceId: string,
    readonly messageId: string,
  ) {
    super();
  }
}

@QueryHandler(ExplainMessageQuery)
export class ExplainMessageHandler implements IQueryHandler<ExplainMessageQuery> {
  constructor(
    private readonly insights: TriggerInsightsService,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
  ) {}

  async execute({ workspaceId, messageId }: ExplainMessageQuery): Promise<Explanation> {
    let explained: MessageExplanation;
    try {
      explained = await this.insights.explain(workspaceId, messageId);
    } catch (error) {
      if (!(error instanceof NotFoundException)) throw error;
      const reply = await this.readModels.get<ConversationMessageDoc>(CONVERSATION_MESSAGES, conversationMessageId(workspaceId, messageId));
      if (!reply) throw error;
      return this.explainReply(workspaceId, reply.doc);
    }
    const stream = await this.events.readStream(customerStreamId(workspaceId, explained.customerId));
    const own = stream.find(
      (e) => (e.type === 'MessageScheduled' || e.type === 'AgentReplied') && e.data.messageId === messageId && e.data.conversationId,
    );
    if (!own) return explained;
    return { ...explained, conversation: conversationAt(stream, String(own.data.conversationId), own, messageId) };
  }

  private async explainReply(workspaceId: string, doc: ConversationMessageDoc): Promise<ConversationReplyExplanation> {
    const stream = await this.events.readStream(customerStreamId(workspaceId, doc.customerId));
    const reply = stream.find((e) => e.type === 'AgentReplied' && e.data.messageId === doc.messageId);
    if (!reply)
      throw new NotFoundException(`message "${doc.messageId}" has no events in customer "${doc.customerId}"'s stream (forgotten?)`);
    const d = reply.data as EventDataByType['AgentReplied'];
    const byId = new Map(stream.map((e) => [e.id, e]));
    const causedBy = causalChain(reply, byId);
    return {
      messageId: doc.messageId,
      customerId: doc.customerId,
      channel: d.channel,
      status: 'replied',
      decision: { event: describe(reply), outcome: 'replied' },
      causedBy,
      ...(d.triggerId && d.runId ? { trigger: await this.runOf(workspaceId, d.triggerId, d.runId, stream) } : {}),
      guards: [],
      delivery: [],
      conversation: conversationAt(stream, d.conversationId, reply, doc.messageId),
    };
  }

  private async runOf(workspaceId: string, triggerId: string, runId: string, stream: RecordedEvent[]) {
    const run = stream.filter((e) => RUN_TYPES.has(e.type) && e.data.runId === runId);
    const version = (run.find((e) => e.type === 'TriggerMatched')?.data as EventDataByType['TriggerMatched'] | undefined)?.version;
    const state = (await this.events.readStream(triggerStreamId(workspaceId, triggerId))).reduce(
      evolveTrigger,
      initialTriggerState(triggerId),
    );
    const name = version !== undefined ? state.definitions[version]?.name : undefined;
    return { id: triggerId, ...(name !== undefined && { name }), ...(version !== undefined && { version }), runId, run: run.map(describe) };
  }
}

/** The conversation folded up to (and including) `upTo`, and the reply that `upTo` is (or carries). */
function conversationAt(stream: RecordedEvent[], conversationId: string, upTo: RecordedEvent, messageId: string): ConversationOfMessage {
  let state = initialConversationState(conversationId);
  const events: ExplainedEvent[] = [];
  let reply: RecordedEvent | undefined;
  for (const e of stream) {
    if (e.type === 'CustomerForgotten') state = initialConversationState(conversationId);
    if (isConversationEvent(e) && e.data.conversationId === conversationId) {
      state = evolveConversation(state, e);
      events.push(describe(e));
      if (e.type === 'AgentReplied' && e.data.messageId === messageId) reply = e;
    }
    if (e.revision >= upTo.revision) break;
  }
  const r = reply?.data as EventDataByType['AgentReplied'] | undefined;
  return {
    conversationId,
    channel: state.channel,
    status: state.status,
    ...(state.team !== undefined && { team: state.team }),
    ...(state.assignee !== undefined && { assignee: state.assignee }),
    priority: state.priority,
    ...(state.startedAt !== undefined && { startedAt: state.startedAt }),
    held: state.held,
    ...(r && {
      reply: {
        messageId: r.messageId,
        ...(r.by !== undefined && { by: r.by }),
        automated: r.automated === true,
        ...(r.triggerId !== undefined && { triggerId: r.triggerId }),
        ...(r.runId !== undefined && { runId: r.runId }),
      },
    }),
    events,
  };
}
