import {
  TRIGGER_BOOKKEEPING_TYPES,
  TRIGGER_SOURCE,
  applyToView,
  decideOnView,
  emptyCustomerView,
  evolveTrigger,
  historyNeeds,
  historyNeedsExceed,
  initialTriggerState,
  pruneView,
  triggerProgram,
  type CompiledTrigger,
  type CustomerView,
  type HistoryNeeds,
  type JourneyEvent,
  type RecordedEvent,
  type TriggerProgram,
  type TriggerState,
} from '@journey/domain';
import type { AppendRequest } from '@journey/event-store';
import type { Reactor, ReactorContext } from '../runtime/reactor';
import { CustomerStates, splitStream, type CustomerEntry } from './customer-states';

const TRIGGER_STREAM = 'trigger-';
const DEFINITION_TYPES = new Set(['TriggerDefined', 'TriggerEnabled', 'TriggerDisabled']);
const DEFINITIONS_PAGE = 1000;

interface Loaded {
  state: TriggerState;
  compiled: Map<number, CompiledTrigger>;
  program?: TriggerProgram;
}

/** A workspace's triggers as the deciders see them, and what they read from a customer's history. */
interface Workspace {
  programs: TriggerProgram[];
  needs: HistoryNeeds;
}

/**
 * Runs the customers' journeys through the triggers, push-based: for every event of an owned customer it runs every
 * trigger of the workspace (`decideOnView`: entry conditions, active runs, guards) and returns what they decided.
 *
 * Trigger definitions come from the trigger streams, in log order, so a replay decides with the versions that were
 * current then. A customer's view before an event is its stream before the event, in order, with the effects of each
 * decision folded right after the event that caused them (wherever they landed in the stream): live, the reactor folds
 * its decisions at once; a rebuild from the stream (`viewBefore`) folds them in the same place. So deciding an event
 * again after a crash gives the same events with the same ids (the store skips them), and an event whose effects are
 * already stored is not decided again: those effects are folded instead. An event a trigger emitted that is an input
 * itself (traits, stage, custom event, CSM task) is folded with its cause and decided on in its own turn.
 *
 * Views are kept per customer (`CustomerStates`, an LRU of `cacheSize` customers) and advanced event by event, so the
 * stream is read only on a miss, a gap or a replay. A view keeps only what the workspace's triggers read (`pruneView`:
 * the history windows of their conditions, the messages within their frequency caps), so its memory is bounded by the
 * triggers, not by the customer's age; when a trigger is defined or enabled that reads further back than the views
 * kept, the workspace's views are rebuilt from their streams.
 */
export class TriggerReactor implements Reactor {
  readonly name = 'triggers';
  readonly filter = { streamPrefixes: ['customer-', TRIGGER_STREAM] };
  private readonly triggers = new Map<string, Map<string, Loaded>>();
  private readonly views: CustomerStates<CustomerView>;
  private loadedUpTo?: bigint;

  private readonly onMatched?: (triggerId: string, version: number) => void;
  private readonly keepHistory: boolean;

  /**
   * `onMatched`: called for each TriggerMatched this reactor decides (for metrics; a replay after a crash may repeat
   * one). `keepHistory`: views keep every record (to compare decisions with and without pruning).
   */
  constructor(options: { cacheSize?: number; onMatched?: (triggerId: string, version: number) => void; keepHistory?: boolean } = {}) {
    this.views = new CustomerStates(options.cacheSize);
    this.onMatched = options.onMatched;
    this.keepHistory = options.keepHistory ?? false;
  }

  /** What the views kept hold: customers, history records, scheduled messages, pending timers. */
  kept(): { customers: number; records: number; messages: number; timers: number } {
    const kept = { customers: 0, records: 0, messages: 0, timers: 0 };
    for (const { state } of this.views.entries()) {
      kept.customers++;
      kept.records += state.history.length;
      kept.messages += state.messages.length;
      kept.timers += state.timers.size;
    }
    return kept;
  }

  async react(events: RecordedEvent[], ctx: ReactorContext): Promise<AppendRequest[]> {
    if (events.length === 0) return [];
    if (this.loadedUpTo === undefined) await this.loadDefinitions(events[0].position, ctx);
    this.views.begin(events);
    const appends: AppendRequest[] = [];
    for (const event of events) {
      if (event.streamId.startsWith(TRIGGER_STREAM)) {
        if (this.applyDefinition(event, true)) await this.reload(event.metadata.workspaceId, appends, ctx);
        continue;
      }
      if (!ctx.owns(event.metadata.workspaceId, event.metadata.customerId)) continue;
      const workspace = this.workspace(event.metadata.workspaceId);
      if (workspace.programs.length === 0) continue;
      let entry = this.views.before(event);
      if (!entry) {
        // nothing to decide on a bookkeeping event: no need to read the stream for it
        if (TRIGGER_BOOKKEEPING_TYPES.has(event.type)) continue;
        entry = viewBefore(await ctx.store.readStream(event.streamId), event);
      }
      const now = ctx.now();
      const decided = this.handle(workspace.programs, entry, event, now);
      if (!this.keepHistory) pruneView(entry.state, workspace.needs, now.getTime());
      this.views.advance(event, entry);
      if (decided.length > 0) appends.push({ streamId: event.streamId, events: decided, expectedRevision: 'any' });
      for (const e of decided) if (e.type === 'TriggerMatched') this.onMatched?.(String(e.data.triggerId), Number(e.data.version));
    }
    this.views.end(events);
    return appends;
  }

  /** Advances the view past `event`, deciding on it unless its effects are already stored; returns what was decided. */
  private handle(programs: TriggerProgram[], entry: CustomerEntry<CustomerView>, event: RecordedEvent, now: Date): JourneyEvent[] {
    const emitted = event.metadata.source === TRIGGER_SOURCE;
    // an effect of an earlier decision (already folded); a bookkeeping one is no input
    if (emitted && TRIGGER_BOOKKEEPING_TYPES.has(event.type)) return [];
    const stored = entry.stored?.get(event.id);
    if (stored) {
      entry.stored!.delete(event.id);
      if (!emitted) applyToView(entry.state, event);
      for (const e of stored) applyToView(entry.state, e);
      return [];
    }
    return decideOnView(programs, entry.state, event, now, undefined, emitted);
  }

  /**
   * The workspace's views pruned for less than its triggers read now: dropped, to be rebuilt from their streams (those
   * this batch touched at once, with the effects decided in this batch, not stored yet).
   */
  private async reload(workspaceId: string, appends: readonly AppendRequest[], ctx: ReactorContext): Promise<void> {
    for (const [streamId, entry] of this.views.invalidate((e) => e.workspaceId === workspaceId)) {
      const pending = appends.filter((a) => a.streamId === streamId).flatMap((a) => a.events);
      this.views.replace(streamId, viewAfter(await ctx.store.readStream(streamId), entry.revision, workspaceId, pending));
    }
  }

  /** The triggers of a workspace: enabled ones, and disabled ones with versions, so their active runs can be ended. */
  private workspace(workspaceId: string): Workspace {
    let out = this.workspaces.get(workspaceId);
    if (out) return out;
    const programs: TriggerProgram[] = [];
    for (const t of this.triggers.get(workspaceId)?.values() ?? []) {
      t.program ??= triggerProgram(t.state, t.compiled);
      programs.push(t.program);
    }
    this.workspaces.set(workspaceId, (out = { programs, needs: historyNeeds(programs) }));
    return out;
  }

  /** `workspace` per workspace, until a definition of the workspace changes (one array of programs: the deciders cache by it). */
  private readonly workspaces = new Map<string, Workspace>();

  /** The definitions in the log before `before`, page by page. */
  private async loadDefinitions(before: bigint, ctx: ReactorContext): Promise<void> {
    const filter = { streamPrefixes: [TRIGGER_STREAM], eventTypes: [...DEFINITION_TYPES] };
    for (let after = 0n; after < before; ) {
      const page = await ctx.store.readAll({ after, filter, maxCount: DEFINITIONS_PAGE });
      for (const e of page) if (e.position < before) this.applyDefinition(e, false);
      after = page.length === DEFINITIONS_PAGE ? page[page.length - 1].position : before;
    }
    this.loadedUpTo = before;
  }

  /** Applies a definition event; `live` (views may be kept): whether the workspace's triggers now read more than its views kept. */
  private applyDefinition(event: JourneyEvent, live: boolean): boolean {
    if (!DEFINITION_TYPES.has(event.type)) return false;
    const workspaceId = event.metadata.workspaceId;
    const kept = live ? this.workspace(workspaceId).needs : undefined;
    const triggerId = String(event.data.triggerId);
    let ws = this.triggers.get(workspaceId);
    if (!ws) this.triggers.set(workspaceId, (ws = new Map()));
    const t = ws.get(triggerId) ?? { state: initialTriggerState(triggerId), compiled: new Map() };
    ws.set(triggerId, { state: evolveTrigger(t.state, event), compiled: t.compiled });
    this.workspaces.delete(workspaceId);
    return kept !== undefined && historyNeedsExceed(this.workspace(workspaceId).needs, kept);
  }
}

/**
 * The customer's view before `input`, from its stream: what the live reactor folded (see `TriggerReactor`), plus the
 * effects already stored for `input` and later events (a replay folds those instead of deciding again).
 */
export function viewBefore(stream: readonly RecordedEvent[], input: RecordedEvent): CustomerEntry<CustomerView> {
  return viewAfter(stream, input.revision - 1n, input.metadata.workspaceId);
}

/** The customer's view as of `revision` of its stream, with `pending`: effects decided on events up to it, not stored yet. */
export function viewAfter(stream: readonly RecordedEvent[], revision: bigint, workspaceId: string, pending: readonly JourneyEvent[] = []): CustomerEntry<CustomerView> {
  const emitted = (e: JourneyEvent) => e.metadata.source === TRIGGER_SOURCE;
  const { before, effects, stored } = splitStream(stream, revision, emitted, pending);
  const view = emptyCustomerView();
  for (const e of before) {
    if (emitted(e) && TRIGGER_BOOKKEEPING_TYPES.has(e.type)) continue;
    if (!emitted(e)) applyToView(view, e);
    for (const effect of effects.get(e.id) ?? []) applyToView(view, effect);
  }
  return { state: view, revision, stored, workspaceId };
}
