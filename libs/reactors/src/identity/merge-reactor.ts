import {
  COPIED_TYPES,
  MERGE_BATCH,
  MERGE_SOURCE,
  completedEvent,
  customerStreamId,
  decideMergeStep,
  deterministicId,
  forgottenWith,
  forwardedEvent,
  identityStreamId,
  isCopyable,
  progressEvent,
  type Claim,
  type JourneyEvent,
  type RecordedEvent,
} from '@journey/domain';
import { WrongExpectedRevisionError, type AppendRequest } from '@journey/event-store';
import type { Reactor, ReactorContext } from '../runtime/reactor';
import type { IdentityDirectory } from './directory';

interface Closure {
  closedAt: bigint;
  userId: string;
}

/** Closes that conflict (an event slipped in) before the step records its progress and lets its next turn go on. */
const CLOSE_ROUNDS = 3;
const CLOSURES_KEPT = 100_000;
const HANDLED_TYPES = ['IdentityMergeStarted', 'IdentityMergeProgressed', 'CustomerMergedInto', 'CustomerForgotten', ...COPIED_TYPES];

/**
 * The merge (identity merge, #12; the protocol is in `@journey/domain` identity.ts): copies a claimed id's history
 * to the user's stream one batch per turn (a claim or a progress event in, at most `batchSize` events read and
 * copied, one progress or closing event out), so a long history takes many short turns and a crash resumes after the
 * last batch recorded (ids derived from the originals: a batch copied again is skipped by the store). It also
 * forwards customer facts that land on a closed stream to the user, and forgets every id of a merged customer when
 * one of them is forgotten.
 *
 * It appends itself, in order (the copies before the progress that says they are done; with EventStoreDB appends to
 * several streams are not atomic), and returns nothing for the runner to append.
 */
export class IdentityMergeReactor implements Reactor {
  readonly name = 'identity-merge';
  readonly filter = { streamPrefixes: ['identity-', 'customer-'], eventTypes: HANDLED_TYPES };
  private readonly closures = new Map<string, Closure | null>();

  constructor(
    private readonly directory: IdentityDirectory,
    private readonly options: { batchSize?: number; onStep?: (step: 'progress' | 'close' | 'closed' | 'forward' | 'forget') => void } = {},
  ) {}

  async react(events: RecordedEvent[], ctx: ReactorContext): Promise<AppendRequest[]> {
    for (const e of events) {
      const { workspaceId, customerId } = e.metadata;
      if (!ctx.owns(workspaceId, customerId)) continue;
      if (e.streamId.startsWith('identity-')) {
        if (e.type === 'IdentityMergeStarted') await this.step(e as unknown as Claim, e, 0n, ctx);
        else if (e.type === 'IdentityMergeProgressed') {
          const [claim] = await ctx.store.readStream(e.streamId, { maxCount: 1 });
          await this.step(claim as unknown as Claim, e, BigInt(String(e.data.copiedUpTo)) + 1n, ctx);
        }
      } else if (e.type === 'CustomerMergedInto') {
        if (e.metadata.source === MERGE_SOURCE) await this.complete(workspaceId, customerId, String(e.data.userId), e.revision, e, ctx);
      } else if (e.type === 'CustomerForgotten') {
        if (e.metadata.source !== MERGE_SOURCE) await this.forget(e, ctx);
      } else {
        if (isCopyable(e) && e.metadata.routedFrom === undefined) {
          const closure = await this.closure(workspaceId, customerId, e.streamId, ctx);
          if (closure && e.revision > closure.closedAt) {
            await ctx.store.appendToStream(customerStreamId(workspaceId, closure.userId), [forwardedEvent(e, closure.userId, ctx.now())]);
            this.options.onStep?.('forward');
          }
        }
        if (e.metadata.source !== MERGE_SOURCE) await this.claimLogged(e);
      }
    }
    return [];
  }

  /** One turn of the copy: a page from `from`, its copies, then progress or the close (see `decideMergeStep`). */
  private async step(claim: Claim, cause: JourneyEvent, from: bigint, ctx: ReactorContext): Promise<void> {
    const { previousId, userId } = claim.data;
    const workspaceId = claim.metadata.workspaceId;
    const previous = customerStreamId(workspaceId, previousId);
    const user = customerStreamId(workspaceId, userId);
    const claimStream = identityStreamId(workspaceId, previousId);
    const batchSize = this.options.batchSize ?? MERGE_BATCH;
    for (let round = 1; ; round++) {
      const page = await ctx.store.readStream(previous, { fromRevision: from, maxCount: batchSize });
      const step = decideMergeStep(claim, cause, from, page, ctx.now(), batchSize);
      if (step.toUser.length > 0) await ctx.store.appendToStream(user, step.toUser);
      const next = step.next;
      if (next.kind === 'progress') {
        await ctx.store.appendToStream(claimStream, [next.event]);
        this.options.onStep?.('progress');
        return;
      }
      if (next.kind === 'closed') {
        await this.complete(workspaceId, previousId, userId, next.closedAt, cause, ctx);
        this.options.onStep?.('closed');
        return;
      }
      const expected = next.expectedRevision;
      try {
        const result = await ctx.store.appendToStream(previous, [next.event], { expectedRevision: expected < 0n ? 'no_stream' : expected });
        if (result.written > 0) {
          await this.complete(workspaceId, previousId, userId, expected + 1n, cause, ctx);
          this.options.onStep?.('close');
          return;
        }
        // closed already by an earlier turn: the next read finds the closing event
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
      }
      from = expected + 1n;
      if (round >= CLOSE_ROUNDS && expected >= 0n) {
        // events keep coming in: record the progress, the next turn goes on after it
        await ctx.store.appendToStream(claimStream, [progressEvent(claim, cause, expected, ctx.now())]);
        this.options.onStep?.('progress');
        return;
      }
    }
  }

  private async complete(
    workspaceId: string,
    previousId: string,
    userId: string,
    closedAt: bigint,
    cause: JourneyEvent,
    ctx: ReactorContext,
  ) {
    this.keep(customerStreamId(workspaceId, previousId), { closedAt, userId });
    await ctx.store.appendToStream(identityStreamId(workspaceId, previousId), [
      completedEvent(workspaceId, previousId, userId, closedAt, cause, ctx.now()),
    ]);
  }

  /** Where a closed stream's later facts go: from the merge's completion on its identity stream (kept per stream). */
  private async closure(workspaceId: string, id: string, streamId: string, ctx: ReactorContext): Promise<Closure | null> {
    const kept = this.closures.get(streamId);
    if (kept !== undefined) {
      this.closures.delete(streamId);
      this.closures.set(streamId, kept);
      return kept;
    }
    // a stream closed later is seen closing in the log (CustomerMergedInto) before any later event of it
    const events = await ctx.store.readStream(identityStreamId(workspaceId, id));
    const done = events.find((e) => e.type === 'IdentityMergeCompleted');
    const closure = done ? { closedAt: BigInt(String(done.data.closedAt)), userId: String(done.data.userId) } : null;
    this.keep(streamId, closure);
    return closure;
  }

  private keep(streamId: string, closure: Closure | null): void {
    this.closures.delete(streamId);
    this.closures.set(streamId, closure);
    if (this.closures.size > CLOSURES_KEPT) this.closures.delete(this.closures.keys().next().value!);
  }

  /**
   * A merge asked for by an event that reached the log without its claim (Kafka ingestion writes to the store
   * directly): an IdentitiesMerged, or an identify naming a known, unmerged anonymousId. Those of HTTP ingestion are
   * claimed with the call already (the same claim: nothing new).
   */
  private async claimLogged(e: RecordedEvent): Promise<void> {
    const { workspaceId, customerId: userId } = e.metadata;
    const m = e.metadata;
    const at = { occurredAt: m.occurredAt, recordedAt: m.recordedAt, correlationId: m.correlationId, source: m.source };
    if (e.type === 'IdentitiesMerged') {
      const previousId = String(e.data.previousId);
      if ((await this.directory.role(workspaceId, previousId)).kind !== 'none') return;
      await this.directory.merge(workspaceId, previousId, userId, { ...at, eventId: e.id });
    } else if (e.type === 'CustomerIdentified' && typeof e.data.anonymousId === 'string' && e.data.userId !== undefined) {
      const anonymousId = e.data.anonymousId;
      if (anonymousId === userId || (await this.directory.role(workspaceId, anonymousId)).kind !== 'none') return;
      if (!(await this.directory.known(workspaceId, anonymousId))) return;
      await this.directory.merge(workspaceId, anonymousId, userId, {
        ...at,
        eventId: deterministicId('identify-merge', workspaceId, anonymousId, userId),
      });
    }
  }

  /** A forgotten id of a merged customer: the customer and every id merged into it are forgotten too. */
  private async forget(e: RecordedEvent, ctx: ReactorContext): Promise<void> {
    const { workspaceId, customerId } = e.metadata;
    const role = await this.directory.role(workspaceId, customerId);
    if (role.kind === 'none') return;
    const root = role.kind === 'alias' ? role.userId : customerId;
    const ids = [root, ...(await this.directory.aliases(workspaceId, root))].filter((id) => id !== customerId);
    for (const id of ids) await ctx.store.appendToStream(customerStreamId(workspaceId, id), [forgottenWith(e, id, ctx.now())]);
    if (ids.length > 0) this.options.onStep?.('forget');
  }
}
