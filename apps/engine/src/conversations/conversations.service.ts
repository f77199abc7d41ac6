import { randomUUID } from 'node:crypto';
import { BadRequestException, ConflictException, Inject, Injectable, NotFoundException, PreconditionFailedException } from '@nestjs/common';
import {
  ConversationCommandError,
  conversationsFromStream,
  customerStreamId,
  decideConversation,
  decideTask,
  deterministicId,
  evolveConversation,
  evolveCustomer,
  initialConversationState,
  initialCustomerState,
  OrganisationCommandError,
  routeCustomerMessage,
  SettingsError,
  type ConversationChannel,
  type ConversationCommand,
  type ConversationContext,
  type ConversationState,
  type CustomerState,
  type JourneyEvent,
  type RecordedEvent,
  type TaskCommand,
} from '@journey/domain';
import { EVENT_STORE, WrongExpectedRevisionError, type EventStore } from '@journey/event-store';
import { scoreSentiment } from './sentiment';

/** How many times a command is decided again when another writer appended to the customer's stream meanwhile. */
const RETRIES = 5;

/** The HTTP answer of a domain refusal: 404 unknown, 409 wrong state (or held by a person), 400 bad input. */
export function httpError(error: unknown): unknown {
  if (error instanceof ConversationCommandError || error instanceof OrganisationCommandError) {
    if (error.code === 'not_found') return new NotFoundException(error.message);
    if (error.code === 'invalid') return new BadRequestException(error.message);
    return new ConflictException(error.message);
  }
  if (error instanceof SettingsError) return new BadRequestException(error.message);
  return error;
}

/** An inbound customer message, from any channel (in-app, email, ...). */
export interface InboundMessage {
  channel: ConversationChannel;
  body: string;
  /** The provider's id of the message (email Message-ID, an in-app client's message id): recorded once. */
  providerId?: string;
  /** The conversation it names (a reply address, an in-app thread). */
  conversationId?: string;
  /** The messages it answers: engine messageIds, earlier email Message-IDs (In-Reply-To, References). */
  inReplyTo?: string[];
  subject?: string;
  sentiment?: number;
}

export interface ConversationChange {
  conversation: ConversationState;
  /** Events written by this call (0: nothing changed, or a duplicate). */
  written: number;
}

/**
 * Conversations and tasks over the customer's stream: load the customer's events, fold, decide, append with the
 * stream's revision as the expected one, decide again on a concurrent append. The one way every inbound path
 * (in-app, email, Slack, the HTTP actions, the reactors) changes a conversation.
 */
@Injectable()
export class ConversationsService {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  /** The customer's events, conversations and state. */
  async load(
    workspaceId: string,
    customerId: string,
  ): Promise<{ events: RecordedEvent[]; conversations: Map<string, ConversationState>; customer: CustomerState }> {
    const events = await this.store.readStream(customerStreamId(workspaceId, customerId));
    return {
      events,
      conversations: conversationsFromStream(events),
      customer: events.reduce(evolveCustomer, initialCustomerState(workspaceId, customerId)),
    };
  }

  async get(workspaceId: string, customerId: string, conversationId: string): Promise<ConversationState> {
    const conversation = (await this.load(workspaceId, customerId)).conversations.get(conversationId);
    if (!conversation) throw new NotFoundException(`conversation "${conversationId}" does not exist for customer "${customerId}"`);
    return conversation;
  }

  /** Records a customer's message in the conversation it belongs to (`routeCustomerMessage`), or a new one. */
  receive(workspaceId: string, customerId: string, message: InboundMessage, source: string): Promise<ConversationChange> {
    return this.decide(workspaceId, customerId, source, {}, (conversations) => {
      const id =
        routeCustomerMessage(conversations, message) ??
        message.conversationId ??
        (message.providerId !== undefined
          ? deterministicId('conversation', workspaceId, message.channel, message.providerId)
          : randomUUID());
      return {
        id,
        command: {
          type: 'ReceiveCustomerMessage',
          channel: message.channel,
          body: message.body,
          ...(message.providerId !== undefined && { providerId: message.providerId }),
          // scored once, when recorded: replays and backtests read the stored number
          ...(typeof message.body === 'string' && { sentiment: message.sentiment ?? scoreSentiment(message.body) }),
          ...(message.subject !== undefined && { subject: message.subject }),
          ...(message.inReplyTo?.[0] !== undefined && !conversations.has(id) && { inReplyTo: message.inReplyTo[0] }),
        },
      };
    });
  }

  /**
   * Runs a command on one conversation. `ifMatch`: the conversation's version the caller saw (its ETag); another
   * version is a 412 and nothing is written.
   */
  act(
    workspaceId: string,
    customerId: string,
    conversationId: string,
    command: ConversationCommand,
    options: { source: string; ifMatch?: number; cause?: ConversationContext['cause'] },
  ): Promise<ConversationChange> {
    return this.decide(workspaceId, customerId, options.source, options, () => ({ id: conversationId, command }));
  }

  /** Assigns or closes an open task of the customer. */
  async task(workspaceId: string, customerId: string, taskId: string, command: TaskCommand, source: string): Promise<{ written: number }> {
    for (let attempt = 1; ; attempt++) {
      const { events, customer } = await this.load(workspaceId, customerId);
      const ctx: ConversationContext = { workspaceId, customerId, now: new Date(), source };
      let decided: JourneyEvent[];
      try {
        decided = decideTask(
          command,
          taskId,
          customer.openTasks.find((t) => t.taskId === taskId),
          ctx,
        );
      } catch (error) {
        throw httpError(error);
      }
      const written = await this.append(workspaceId, customerId, events, decided);
      if (written !== undefined) return { written };
      if (attempt >= RETRIES) throw new ConflictException(`customer "${customerId}" changed concurrently; retry`);
    }
  }

  private async decide(
    workspaceId: string,
    customerId: string,
    source: string,
    options: { ifMatch?: number; cause?: ConversationContext['cause'] },
    choose: (conversations: Map<string, ConversationState>) => { id: string; command: ConversationCommand },
  ): Promise<ConversationChange> {
    for (let attempt = 1; ; attempt++) {
      const { events, conversations } = await this.load(workspaceId, customerId);
      const { id, command } = choose(conversations);
      const state = conversations.get(id) ?? initialConversationState(id);
      if (options.ifMatch !== undefined && options.ifMatch !== state.version)
        throw new PreconditionFailedException(
          `If-Match: conversation "${id}" is at version ${state.version}, not ${options.ifMatch}; read it again`,
        );
      let decided;
      try {
        decided = decideConversation(command, state, {
          workspaceId,
          customerId,
          now: new Date(),
          source,
          ...(options.cause && { cause: options.cause }),
        });
      } catch (error) {
        throw httpError(error);
      }
      if (decided.length === 0) return { conversation: state, written: 0 };
      const written = await this.append(workspaceId, customerId, events, decided);
      if (written !== undefined) return { conversation: decided.reduce(evolveConversation, state), written };
      if (options.ifMatch !== undefined || attempt >= RETRIES)
        throw new ConflictException(`conversation "${id}" changed concurrently; read it again and retry`);
    }
  }

  /** Appends after the stream's last read event; undefined when another writer came first. */
  private async append(
    workspaceId: string,
    customerId: string,
    read: RecordedEvent[],
    events: JourneyEvent[],
  ): Promise<number | undefined> {
    if (events.length === 0) return 0;
    const last = read.at(-1);
    try {
      const result = await this.store.appendToStream(customerStreamId(workspaceId, customerId), events, {
        expectedRevision: last ? last.revision : 'no_stream',
      });
      return result.written;
    } catch (error) {
      if (error instanceof WrongExpectedRevisionError) return undefined;
      throw error;
    }
  }
}
