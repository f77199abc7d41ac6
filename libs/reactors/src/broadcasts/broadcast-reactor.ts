import {
  BROADCAST_STREAM_PREFIX,
  broadcastOfPurpose,
  broadcastStreamId,
  completed,
  countOutcome,
  customerStreamId,
  decideForMember,
  decideWhenDue,
  foldBroadcast,
  progressed,
  settingsFromStream,
  workspaceStreamId,
  type BroadcastCounts,
  type BroadcastState,
  type QuietHours,
  type RecordedEvent,
} from '@journey/domain';
import { WrongExpectedRevisionError, type AppendRequest } from '@journey/event-store';
import type { Reactor, ReactorContext } from '../runtime/reactor';

/** A segment's current members, a page at a time in customer id order (the `segment_members` read model). */
export interface SegmentMembers {
  page(workspaceId: string, segmentId: string, after: string | undefined, limit: number): Promise<string[]>;
}

/** Members read per page of the fan-out (one BroadcastProgressed per page). */
export const BROADCAST_PAGE = 500;

/**
 * Broadcasts (see `@journey/domain` broadcasts/broadcast.ts). Two inputs, both durable timers fired by the TimerScheduler:
 *
 * - the broadcast's start (a TimerFired on `broadcast-<ws>-<id>`): the fan-out. Members are read a page at a time
 *   (`SegmentMembers`, keyset paging by customer id), each member's stream is read and decided on
 *   (`decideForMember`: the message through the guards, or a local-time timer), the page's decisions are appended
 *   unless the broadcast was cancelled meanwhile, then a BroadcastProgressed with the last customer id and the counts
 *   so far (expected revision: a cancel in between stops the fan-out), and at the end BroadcastCompleted. Memory holds
 *   one page; a crash resumes at the last progress (the runner redelivers the TimerFired: its checkpoint moves only
 *   after `react`), and the members of the page in flight are answered from their streams (`reachedBy`), so nobody gets
 *   it twice and the counts stay exact.
 * - a member's local-time timer (a TimerFired with purpose `broadcast:<id>` on a customer stream): `decideWhenDue`.
 *
 * Both decide with the workspace's settings as they are then (its default quiet hours, for a broadcast that sets none
 * of its own), read from its `workspace-<ws>` stream once per page and per batch.
 *
 * The fan-out runs in the process that owns the broadcast stream (its events carry the empty customer id), and appends
 * to every member's stream whichever partition owns it; the members' timers fire and are decided by their owners.
 */
export class BroadcastReactor implements Reactor {
  readonly name = 'broadcasts';
  readonly filter = { streamPrefixes: [BROADCAST_STREAM_PREFIX, 'customer-'], eventTypes: ['TimerFired'] };

  constructor(
    private readonly members: SegmentMembers,
    private readonly pageSize = BROADCAST_PAGE,
  ) {}

  async react(events: RecordedEvent[], ctx: ReactorContext): Promise<AppendRequest[]> {
    const out: AppendRequest[] = [];
    const broadcasts = new Map<string, BroadcastState>();
    const quiet = new Map<string, QuietHours | undefined>();
    for (const fired of events) {
      if (fired.type !== 'TimerFired') continue;
      const broadcastId = broadcastOfPurpose(String(fired.data.purpose));
      const { workspaceId, customerId } = fired.metadata;
      if (broadcastId === undefined || !ctx.owns(workspaceId, customerId)) continue;
      if (fired.streamId === broadcastStreamId(workspaceId, broadcastId)) {
        await this.fanOut(fired, broadcastId, ctx);
        continue;
      }
      if (!customerId || fired.streamId !== customerStreamId(workspaceId, customerId)) continue;
      const key = `${workspaceId}\u0000${broadcastId}`;
      let broadcast = broadcasts.get(key);
      if (!broadcast) {
        broadcast = foldBroadcast(broadcastId, await ctx.store.readStream(broadcastStreamId(workspaceId, broadcastId)));
        broadcasts.set(key, broadcast);
      }
      if (!broadcast.definition) continue;
      const stream = await ctx.store.readStream(fired.streamId);
      if (!quiet.has(workspaceId)) quiet.set(workspaceId, await workspaceQuietHours(workspaceId, ctx));
      const workspaceQuiet = quiet.get(workspaceId);
      const decided = decideWhenDue(broadcast.definition, broadcast.status === 'cancelled', stream, {
        workspaceId,
        customerId,
        now: ctx.now(),
        cause: fired,
        ...(workspaceQuiet ? { workspaceQuietHours: workspaceQuiet } : {}),
      });
      if (decided.length > 0) out.push({ streamId: fired.streamId, events: decided, expectedRevision: 'any' });
    }
    return out;
  }

  private async fanOut(fired: RecordedEvent, broadcastId: string, ctx: ReactorContext): Promise<void> {
    const { workspaceId } = fired.metadata;
    const streamId = fired.streamId;
    let state = foldBroadcast(broadcastId, await ctx.store.readStream(streamId));
    if (fired.data.timerId !== state.startTimerId) return;
    while (state.definition && state.status === 'sending') {
      const definition = state.definition;
      const page = await this.members.page(workspaceId, definition.segmentId, state.cursor, this.pageSize);
      let counts: BroadcastCounts = state.counts;
      const appends: AppendRequest[] = [];
      const workspaceQuiet = await workspaceQuietHours(workspaceId, ctx);
      for (const customerId of page) {
        const memberStream = customerStreamId(workspaceId, customerId);
        const decision = decideForMember(definition, await ctx.store.readStream(memberStream), {
          workspaceId,
          customerId,
          now: ctx.now(),
          cause: fired,
          ...(workspaceQuiet ? { workspaceQuietHours: workspaceQuiet } : {}),
        });
        counts = countOutcome(counts, decision.outcome);
        if (decision.events.length > 0) appends.push({ streamId: memberStream, events: decision.events, expectedRevision: 'any' });
      }
      // cancelled while the page was decided: its messages are not sent
      state = foldBroadcast(broadcastId, await ctx.store.readStream(streamId));
      if (state.status !== 'sending') return;
      if (appends.length > 0) await ctx.store.appendMany(appends);
      const done = page.length < this.pageSize;
      const event = done
        ? completed(workspaceId, broadcastId, counts, ctx.now(), fired)
        : progressed(workspaceId, broadcastId, page[page.length - 1], counts, ctx.now(), fired);
      try {
        await ctx.store.appendToStream(streamId, [event], { expectedRevision: BigInt(state.revision - 1) });
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        // changed meanwhile (a cancel): decide again from the stream; a cancelled broadcast stops here
      }
      state = foldBroadcast(broadcastId, await ctx.store.readStream(streamId));
    }
  }
}

/** The workspace's default quiet hours now (its settings stream: a few events). */
async function workspaceQuietHours(workspaceId: string, ctx: ReactorContext): Promise<QuietHours | undefined> {
  return settingsFromStream(await ctx.store.readStream(workspaceStreamId(workspaceId))).settings.quietHours;
}
