import { typed, type JourneyEvent } from '@journey/domain';

export interface InboxMessage {
  messageId: string;
  subject?: string;
  body: string;
  deliveredAt: string;
  opened: boolean;
  openedAt?: string;
}

/**
 * The customer's in-app inbox, folded from the customer's stream: every MessageDelivered on the `inbox` channel (it
 * carries the rendered content) and whether a MessageOpened followed; nothing from before a CustomerForgotten. Newest first.
 */
export function inboxFromStream(events: Iterable<JourneyEvent>): InboxMessage[] {
  const messages = new Map<string, InboxMessage>();
  for (const event of events) {
    const e = typed(event);
    if (e.type === 'MessageDelivered') {
      const d = e.data;
      if (d.channel !== 'inbox' || !d.content) continue;
      messages.set(d.messageId, {
        messageId: d.messageId,
        ...(d.content.subject !== undefined && { subject: d.content.subject }),
        body: d.content.body,
        deliveredAt: e.metadata.recordedAt,
        opened: false,
      });
    } else if (e.type === 'CustomerForgotten') {
      messages.clear();
    } else if (e.type === 'MessageOpened') {
      const m = messages.get(e.data.messageId);
      if (m && !m.opened) Object.assign(m, { opened: true, openedAt: e.metadata.occurredAt });
    }
  }
  return [...messages.values()].reverse();
}
