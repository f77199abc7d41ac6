import {
  SEGMENT_SOURCE,
  applyToSegmentView,
  backfillPage,
  compileSegmentState,
  customerStreamId,
  decideSegments,
  emptySegmentView,
  evolveSegment,
  historyNeedsExceed,
  initialSegmentState,
  isSegmentInput,
  pruneSegmentView,
  segmentsHistoryNeeds,
  typed,
  type CompiledSegment,
  type HistoryNeeds,
  type JourneyEvent,
  type RecordedEvent,
  type SegmentState,
  type SegmentView,
  type TypedEvent,
} from '@journey/domain';
import { markTransient, type AppendRequest } from '@journey/event-store';
import { CustomerDecisions } from '../runtime/decider-reactor';
import type { Reactor, ReactorContext } from '../runtime/reactor';

const SEGMENT_STREAM = 'segment-';
const DEFINITION_TYPES = new Set(['SegmentDefined', 'SegmentRemoved']);
const DEFINITIONS_PAGE = 1000;
/** Customers asked to be evaluated per backfill step (one step per batch the reactor handles). */
export const BACKFILL_PAGE = 500;

/**
 * Who a backfill asks: the customers of a workspace, or a segment's members, by id in ascending order (a page after
 * `after`), and whether the read models they come from have applied the log up to the change (its position).
 */
export interface SegmentAudience {
  customers(workspaceId: string, after: string, limit: number): Promise<string[]>;
  members(workspaceId: string, segmentId: string, after: string, limit: number): Promise<string[]>;
  caughtUp(position: bigint, of: 'SegmentDefined' | 'SegmentRemoved'): Promise<boolean>;
}

/** A workspace's segments as the decider sees them, and what they read from history. */
interface Workspace {
  segments: CompiledSegment[];
  needs: HistoryNeeds;
}

export interface SegmentReactorOptions {
  cacheSize?: number;
  /** How long a backfill step waits for the read models to reach the change before it is retried (transient). */
  catchUpMs?: number;
  pageSize?: number;
  /** Each SegmentEntered / SegmentLeft decided (for metrics; a replay may repeat one). */
  onChanged?: (segmentId: string, type: 'SegmentEntered' | 'SegmentLeft') => void;
}

/**
 * Keeps segment membership, push-based: for every event of an owned customer it decides every segment of the workspace
 * (`decideSegments`: SegmentEntered / SegmentLeft and the membership timers), with the customer's view kept per customer
 * (`CustomerDecisions`, the replay rule of `@journey/domain` replay.ts; an LRU of `cacheSize` customers, pruned to what
 * the segments read). Definitions come from the segment streams in log order (loaded once, then followed), so a replay
 * decides with the versions current then.
 *
 * When a segment is defined, changed or removed, the customers it may concern are evaluated once: a one-time backfill,
 * page by page (`backfillPage`): the customers of the workspace from the `customers` read model (a new version), or
 * the segment's members from `segment_members` (a removal: they leave with reason `segment-removed`), each asked with a
 * SegmentEvaluationRequested on its own stream, then decided on in the customer's order like any input. The progress
 * (SegmentBackfillProgressed, on the segment's stream) drives the next page, so the work per batch is bounded and a
 * crash resumes where it was (ids derive from the change and the customer). A step waits for the read model to have
 * applied the change's position first (else it is retried as a transient failure). Never a periodic scan: time-driven
 * changes are the membership timers.
 */
export class SegmentReactor implements Reactor {
  readonly name = 'segments';
  readonly filter = { streamPrefixes: ['customer-', SEGMENT_STREAM] };
  private readonly states = new Map<string, Map<string, SegmentState>>();
  private readonly workspaces = new Map<string, Workspace>();
  private readonly views: CustomerDecisions<SegmentView>;
  private loadedUpTo?: bigint;
  private readonly pageSize: number;

  constructor(
    private readonly audience: SegmentAudience,
    private readonly options: SegmentReactorOptions = {},
  ) {
    this.pageSize = options.pageSize ?? BACKFILL_PAGE;
    this.views = new CustomerDecisions<SegmentView>(
      {
        initial: emptySegmentView,
        evolve: (view, e) => (applyToSegmentView(view, e), view),
        isEffect: (e) => e.metadata.source === SEGMENT_SOURCE,
        isInput: isSegmentInput,
        decide: (view, e, now, folded) => {
          const effects = decideSegments(this.workspace(e.metadata.workspaceId).segments, view, e, now, folded);
          if (options.onChanged)
            for (const m of effects)
              if (m.type === 'SegmentEntered' || m.type === 'SegmentLeft') options.onChanged(String(m.data.segmentId), m.type);
          return { state: view, effects };
        },
        settle: (view, e, now) => (pruneSegmentView(view, this.workspace(e.metadata.workspaceId).needs, now.getTime()), view),
      },
      options.cacheSize,
    );
  }

  async react(events: RecordedEvent[], ctx: ReactorContext): Promise<AppendRequest[]> {
    if (events.length === 0) return [];
    if (this.loadedUpTo === undefined) await this.loadDefinitions(events[0].position, ctx);
    this.views.begin(events);
    const backfill: AppendRequest[] = [];
    for (const event of events) {
      const workspaceId = event.metadata.workspaceId;
      if (event.streamId.startsWith(SEGMENT_STREAM)) {
        if (this.applyDefinition(event, true)) await this.views.refresh((e) => e.workspaceId === workspaceId, ctx.store);
        backfill.push(...(await this.backfillStep(event, ctx)));
      } else if (ctx.owns(workspaceId, event.metadata.customerId) && this.workspace(workspaceId).segments.length > 0) {
        await this.views.decide(event, ctx);
      }
    }
    return [...this.views.end(events), ...backfill];
  }

  /** The next page of the backfill a change (or its progress) asks for, if it is still the segment's latest change. */
  private async backfillStep(event: RecordedEvent, ctx: ReactorContext): Promise<AppendRequest[]> {
    const e = typed(event);
    let of: 'SegmentDefined' | 'SegmentRemoved';
    let after = '';
    if (e.type === 'SegmentDefined' || e.type === 'SegmentRemoved') of = e.type;
    else if (e.type === 'SegmentBackfillProgressed' && !e.data.done) ({ of, after } = e.data);
    else return [];
    const { segmentId, version } = e.data;
    const state = this.states.get(event.metadata.workspaceId)?.get(segmentId);
    // a later change has its own backfill
    if (!state || state.version !== version || state.removed !== (of === 'SegmentRemoved')) return [];
    const workspaceId = event.metadata.workspaceId;
    await this.waitForReadModels(event.position, of);
    const page =
      of === 'SegmentDefined'
        ? await this.audience.customers(workspaceId, after, this.pageSize)
        : await this.audience.members(workspaceId, segmentId, after, this.pageSize);
    const change = e as TypedEvent<'SegmentDefined' | 'SegmentRemoved'> | TypedEvent<'SegmentBackfillProgressed'>;
    const { requests, progress } = backfillPage(change, page, this.pageSize, ctx.now());
    const out: AppendRequest[] = requests
      .filter((r) => ctx.owns(workspaceId, r.metadata.customerId))
      .map((r) => ({ streamId: customerStreamId(workspaceId, r.metadata.customerId), events: [r], expectedRevision: 'any' as const }));
    out.push({ streamId: event.streamId, events: [progress], expectedRevision: 'any' });
    return out;
  }

  private async waitForReadModels(position: bigint, of: 'SegmentDefined' | 'SegmentRemoved'): Promise<void> {
    const deadline = Date.now() + (this.options.catchUpMs ?? 5_000);
    while (!(await this.audience.caughtUp(position, of))) {
      if (Date.now() >= deadline)
        throw markTransient(new Error(`segment backfill: the read models have not reached position ${position} yet`));
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The segments of a workspace (removed ones too: their members leave). */
  private workspace(workspaceId: string): Workspace {
    let out = this.workspaces.get(workspaceId);
    if (out) return out;
    const segments: CompiledSegment[] = [];
    for (const state of this.states.get(workspaceId)?.values() ?? []) {
      try {
        const compiled = compileSegmentState(state);
        if (compiled) segments.push(compiled);
      } catch {
        // a stored definition that does not compile (never accepted by the API): ignored, it decides nothing
      }
    }
    this.workspaces.set(workspaceId, (out = { segments, needs: segmentsHistoryNeeds(segments) }));
    return out;
  }

  private async loadDefinitions(before: bigint, ctx: ReactorContext): Promise<void> {
    const filter = { streamPrefixes: [SEGMENT_STREAM], eventTypes: [...DEFINITION_TYPES] };
    for (let after = 0n; after < before;) {
      const page = await ctx.store.readAll({ after, filter, maxCount: DEFINITIONS_PAGE });
      for (const e of page) if (e.position < before) this.applyDefinition(e, false);
      after = page.length === DEFINITIONS_PAGE ? page[page.length - 1].position : before;
    }
    this.loadedUpTo = before;
  }

  /** Applies a definition event; `live`: whether the workspace's segments now read more history than its views kept. */
  private applyDefinition(event: JourneyEvent, live: boolean): boolean {
    if (!DEFINITION_TYPES.has(event.type)) return false;
    const workspaceId = event.metadata.workspaceId;
    const kept = live ? this.workspace(workspaceId).needs : undefined;
    const segmentId = String(event.data.segmentId);
    let ws = this.states.get(workspaceId);
    if (!ws) this.states.set(workspaceId, (ws = new Map()));
    ws.set(segmentId, evolveSegment(ws.get(segmentId) ?? initialSegmentState(segmentId), event));
    this.workspaces.delete(workspaceId);
    return kept !== undefined && historyNeedsExceed(this.workspace(workspaceId).needs, kept);
  }
}
