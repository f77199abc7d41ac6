import {
  conversationsFromStream,
  deterministicId,
  envelope,
  foldCustomer,
  typed,
  type EventDataByType,
  type RecordedEvent,
} from '@journey/domain';
import type { AppendRequest } from '@journey/event-store';
import type { Reactor, ReactorContext } from '../runtime/reactor';

/** The subject of an answer: `Re: <the conversation's subject>` (no second `Re:`). */
export function replySubject(subject: string | undefined): string {
  const s = subject?.trim();
  if (!s) return 'Re: your message';
  return /^re:/i.test(s) ? s : `Re: ${s}`;
}

/**
 * Agent replies in email conversations go out by email: for each AgentReplied on channel `email` (a person's, or
 * automation's), a MessageScheduled { channel: 'email', conversationId, template: { subject: 'Re: …', body }, literal,
 * to: the customer's `email` trait } on the customer's stream, which the dispatcher sends (the email channel threads
 * it: Reply-To the conversation's reply address, In-Reply-To the customer's last mail). `literal`: the agent's words
 * are sent as written, never rendered as Liquid. Ids derive from the AgentReplied's, so a replay appends nothing new.
 */
export class EmailRepliesReactor implements Reactor {
  readonly name = 'email-replies';
  readonly filter = { eventTypes: ['AgentReplied'], streamPrefixes: ['customer-'] };

  async react(events: RecordedEvent[], ctx: ReactorContext): Promise<AppendRequest[]> {
    const appends: AppendRequest[] = [];
    for (const event of events) {
      const e = typed(event);
      if (e.type !== 'AgentReplied' || e.data.channel !== 'email') continue;
      const { workspaceId, customerId } = e.metadata;
      if (!ctx.owns(workspaceId, customerId)) continue;
      const stream = await ctx.store.readStream(event.streamId);
      const upTo = stream.filter((s) => s.position <= event.position);
      const conversation = conversationsFromStream(upTo).get(e.data.conversationId);
      const { traits, forgotten } = foldCustomer(workspaceId, customerId, upTo);
      if (forgotten) continue;
      const email = typeof traits.email === 'string' && traits.email.trim() !== '' ? traits.email.trim() : undefined;
      const data: EventDataByType['MessageScheduled'] = {
        messageId: deterministicId('email-reply-message', event.id),
        channel: 'email',
        conversationId: e.data.conversationId,
        template: { subject: replySubject(conversation?.subject), body: e.data.body },
        literal: true,
        ...(email !== undefined && { to: email }),
        causingEventId: event.id,
        ...(e.data.triggerId !== undefined && { triggerId: e.data.triggerId }),
        ...(e.data.runId !== undefined && { runId: e.data.runId }),
      };
      const now = ctx.now().toISOString();
      appends.push({
        streamId: event.streamId,
        events: [
          envelope({
            id: deterministicId('email-reply', event.id),
            type: 'MessageScheduled',
            data,
            workspaceId,
            customerId,
            occurredAt: now,
            recordedAt: now,
            source: 'reactor',
            cause: event,
          }),
        ],
      });
    }
    return appends;
  }
}
