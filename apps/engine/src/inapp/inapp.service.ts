import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { MAX_BODY, type ConversationState } from '@journey/domain';
import { inboxFromStream, type InboxMessage } from '@journey/messaging';
import { ConversationsService } from '../conversations/conversations.service';
import { OrganisationService } from '../conversations/organisation.service';
import { clientConversations, inAppProviderId, type ClientConversation } from './client-view';
import type { InAppCustomer } from './inapp.guard';

/** Who writes the events of the in-app client (`metadata.source`). */
export const INAPP_SOURCE = 'inbox';
/** Longest clientMessageId, conversationId or inReplyTo accepted. */
export const MAX_CLIENT_ID = 256;

export interface ClientInbox {
  customerId: string;
  messages: InboxMessage[];
  conversations: ClientConversation[];
}

export interface ClientWrite {
  body: string;
  conversationId?: string;
  inReplyTo?: string;
  clientMessageId?: string;
}

export interface Written {
  conversationId: string;
  messageId: string;
  /** True when this clientMessageId was recorded before: nothing was written again. */
  duplicate: boolean;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function optionalId(body: Record<string, unknown>, field: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw new BadRequestException(`${field}: must be a non-empty string`);
  if (v.length > MAX_CLIENT_ID) throw new BadRequestException(`${field}: at most ${MAX_CLIENT_ID} characters, got ${v.length}`);
  return v;
}

/** Checks a customer's message: `body` (1 to MAX_BODY characters), optional `conversationId`, `inReplyTo`, `clientMessageId`. */
export function validWrite(body: unknown): ClientWrite {
  if (!isRecord(body)) throw new BadRequestException('the request body must be a JSON object: { "body": "…" }');
  const known = ['body', 'conversationId', 'inReplyTo', 'clientMessageId'];
  const unknown = Object.keys(body).find((k) => !known.includes(k));
  if (unknown !== undefined) throw new BadRequestException(`${unknown}: unknown field (known: ${known.join(', ')})`);
  const text = body.body;
  if (typeof text !== 'string' || text.trim() === '') throw new BadRequestException('body: must be a non-empty string');
  if (text.length > MAX_BODY) throw new BadRequestException(`body: at most ${MAX_BODY} characters, got ${text.length}`);
  const conversationId = optionalId(body, 'conversationId');
  const inReplyTo = optionalId(body, 'inReplyTo');
  const clientMessageId = optionalId(body, 'clientMessageId');
  return {
    body: text,
    ...(conversationId !== undefined && { conversationId }),
    ...(inReplyTo !== undefined && { inReplyTo }),
    ...(clientMessageId !== undefined && { clientMessageId }),
  };
}

/** Checks a rating: `score` an integer 1 to 5, optional `comment` (1 to MAX_BODY characters). */
export function validRating(body: unknown): { score: number; comment?: string } {
  if (!isRecord(body)) throw new BadRequestException('the request body must be a JSON object: { "score": 1..5, "comment"?: "…" }');
  const unknown = Object.keys(body).find((k) => k !== 'score' && k !== 'comment');
  if (unknown !== undefined) throw new BadRequestException(`${unknown}: unknown field (known: score, comment)`);
  const { score, comment } = body;
  if (typeof score !== 'number' || !Number.isInteger(score) || score < 1 || score > 5)
    throw new BadRequestException(`score: must be an integer from 1 to 5, got ${JSON.stringify(score) ?? 'nothing'}`);
  if (comment !== undefined && (typeof comment !== 'string' || comment.trim() === '' || comment.length > MAX_BODY))
    throw new BadRequestException(`comment: must be a non-empty string of at most ${MAX_BODY} characters`);
  return { score, ...(comment !== undefined && { comment: comment as string }) };
}

/** The in-app client's reads and writes, each for the one customer its token authenticates. */
@Injectable()
export class InAppService {
  constructor(
    private readonly conversations: ConversationsService,
    private readonly organisation: OrganisationService,
  ) {}

  async inbox({ workspaceId, customerId }: InAppCustomer): Promise<ClientInbox> {
    const [{ events, conversations }, organisation] = await Promise.all([
      this.conversations.load(workspaceId, customerId),
      this.organisation.load(workspaceId),
    ]);
    return {
      customerId,
      messages: inboxFromStream(events),
      conversations: clientConversations(conversations.values(), customerId, organisation),
    };
  }

  /**
   * Records the customer's message (ConversationsService.receive, channel `inbox`) in the conversation it names, the
   * one holding the message it answers, or the latest open in-app one, else a new one. A clientMessageId recorded
   * before is answered as it was and not recorded again.
   */
  async write({ workspaceId, customerId }: InAppCustomer, write: ClientWrite): Promise<Written> {
    const providerId = write.clientMessageId !== undefined ? inAppProviderId(customerId, write.clientMessageId) : undefined;
    const { events, conversations } = await this.conversations.load(workspaceId, customerId);
    if (providerId !== undefined) {
      const earlier = findProviderId(conversations.values(), providerId);
      if (earlier) return { ...earlier, duplicate: true };
    }
    if (write.conversationId !== undefined && !conversations.get(write.conversationId)?.exists)
      throw new NotFoundException(`conversationId: you have no conversation "${write.conversationId}"`);
    if (
      write.inReplyTo !== undefined &&
      !inboxFromStream(events).some((m) => m.messageId === write.inReplyTo) &&
      ![...conversations.values()].some((c) => c.thread.some((t) => t.from !== 'note' && t.messageId === write.inReplyTo))
    )
      throw new NotFoundException(`inReplyTo: no message "${write.inReplyTo}" in your inbox or conversations`);
    const { conversation, written } = await this.conversations.receive(
      workspaceId,
      customerId,
      {
        channel: 'inbox',
        body: write.body,
        ...(providerId !== undefined && { providerId }),
        ...(write.conversationId !== undefined && { conversationId: write.conversationId }),
        ...(write.inReplyTo !== undefined && { inReplyTo: [write.inReplyTo] }),
      },
      INAPP_SOURCE,
    );
    const entry =
      providerId !== undefined
        ? conversation.thread.find((t) => t.providerId === providerId)
        : conversation.thread.filter((t) => t.from === 'customer').at(-1);
    // written 0: a concurrent post of the same clientMessageId came first; the answer is the same
    return { conversationId: conversation.conversationId, messageId: entry?.messageId ?? '', duplicate: written === 0 };
  }

  async rate({ workspaceId, customerId }: InAppCustomer, conversationId: string, rating: { score: number; comment?: string }) {
    const { conversation } = await this.conversations.act(
      workspaceId,
      customerId,
      conversationId,
      { type: 'Rate', ...rating },
      { source: INAPP_SOURCE },
    );
    return { conversationId, rating: conversation.rating };
  }
}

function findProviderId(
  conversations: Iterable<ConversationState>,
  providerId: string,
): { conversationId: string; messageId: string } | undefined {
  for (const c of conversations) {
    const t = c.thread.find((x) => x.providerId === providerId);
    if (t) return { conversationId: c.conversationId, messageId: t.messageId };
  }
  return undefined;
}
