import { Inject, Injectable } from '@nestjs/common';
import { deterministicId, envelope, escapeWorkspaceId, typed, type JourneyEvent } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import type { ConversationRef } from '@journey/messaging';

export const slackStreamId = (workspaceId: string): string => `slack-${escapeWorkspaceId(workspaceId)}`;

interface Threads {
  revision: number;
  byThread: Map<string, ConversationRef>;
}

const threadKey = (channel: string, ts: string) => `${channel}\u0000${ts}`;

/**
 * Which conversation a Slack thread belongs to. An incoming webhook does not answer with the `ts` of its post, so the
 * link is made when Slack delivers the post itself to the Events API (a `message` event from the app's bot, its blocks
 * carrying the conversation's reference): SlackThreadLinked on `slack-<workspace>`, its id derived from the post's
 * channel and ts (a redelivery is recorded once). Folded per workspace and brought up to date on each lookup.
 */
@Injectable()
export class SlackThreads {
  private readonly cache = new Map<string, Threads>();

  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async link(workspaceId: string, channel: string, threadTs: string, ref: ConversationRef): Promise<void> {
    const now = new Date().toISOString();
    const event: JourneyEvent = envelope({
      id: deterministicId('slack-thread', workspaceId, channel, threadTs),
      type: 'SlackThreadLinked',
      data: { channel, threadTs, customerId: ref.customerId, conversationId: ref.conversationId },
      workspaceId,
      customerId: '',
      occurredAt: now,
      recordedAt: now,
      source: 'slack',
    });
    await this.store.appendToStream(slackStreamId(workspaceId), [event]);
  }

  async find(workspaceId: string, channel: string, threadTs: string): Promise<ConversationRef | undefined> {
    const state = this.cache.get(workspaceId) ?? { revision: 0, byThread: new Map() };
    const events = await this.store.readStream(slackStreamId(workspaceId), { fromRevision: BigInt(state.revision) });
    for (const event of events) {
      // from the event's own revision: two lookups at once fold the same events, harmlessly
      state.revision = Math.max(state.revision, Number(event.revision) + 1);
      const e = typed(event);
      if (e.type === 'SlackThreadLinked')
        state.byThread.set(threadKey(e.data.channel, e.data.threadTs), {
          workspaceId,
          customerId: e.data.customerId,
          conversationId: e.data.conversationId,
        });
    }
    this.cache.set(workspaceId, state);
    return state.byThread.get(threadKey(channel, threadTs));
  }
}
