import {
  TRIGGER_BOOKKEEPING_TYPES,
  TRIGGER_DEFINITION_TYPES,
  TRIGGER_SOURCE,
  applyToView,
  decideOnView,
  emptyCustomerView,
  evolveTrigger,
  historyNeeds,
  historyNeedsExceed,
  initialTriggerState,
  isMergedCopy,
  pruneView,
  triggerProgram,
  type CompiledTrigger,
  type CustomerView,
  type HistoryNeeds,
  type JourneyEvent,
  type QuietHours,
  type RecordedEvent,
  type ReplyRenderer,
  type TriggerProgram,
  type TriggerState,
} from '@journey/domain';
import type { AppendRequest } from '@journey/event-store';
import { replyRenderer } from '@journey/messaging';
import type { Reactor, ReactorContext } from '../runtime/reactor';
import { CustomerDecisions } from '../runtime/decider-reactor';

const TRIGGER_STREAM = 'trigger-';
/** The workspace settings streams (`workspace-<ws>`): their default quiet hours apply to triggers without their own. */
const SETTINGS_STREAM = 'workspace-';
const SETTINGS_CHANGED = 'WorkspaceSettingsChanged';
const DEFINITION_TYPES: ReadonlySet<string> = new Set(TRIGGER_DEFINITION_TYPES);
const DEFINITIONS_PAGE = 1000;

interface Loaded {
  state: TriggerState;
  compiled: Map<number, CompiledTrigger>;
  program?: TriggerProgram;
}

/** A view of a stream that was merged into another customer (CustomerMergedInto folded). */
type MergedView = CustomerView & { mergedInto?: true };

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
 * current then. A customer's view before an event follows the replay rule (`@journey/domain` replay.ts, through
 * `CustomerDecisions`): the effects of each decision are folded right after the event that caused them. An event a
 * trigger emitted that is an input itself (traits, stage, custom event, CSM task) is folded with its cause and decided
 * on in its own turn.
 *
 * Views are kept per customer (an LRU of `cacheSize` customers) and advanced event by event, so the stream is read
 * only on a miss, a gap or a replay. A view keeps only what the workspace's triggers read (`pruneView`: the history
 * windows of their conditions, the messages within their frequency caps), so its memory is bounded by the triggers,
 * not by the customer's age; when a trigger is defined or enabled that reads further back than the views kept, the
 * workspace's views are rebuilt from their streams.
 *
 * The workspace's default quiet hours (its settings' `quietHours`) come from its `workspace-<ws>` stream the same way,
 * in log order (WorkspaceSettingsChanged), so a replay decides with the settings of its time; a trigger's own
 * `guards.quietHours` wins over them, `none` opts out (`checkGuards`).
 *
 * A trigger with a shadow version (TriggerShadowStarted) decides it too, on every input, in its own run slots (see
 * `decideOnView`): its runs, timers and MessageShadowed are appended like the live ones, and nothing of it is sent.
 */
export class TriggerReactor implements Reactor {
  readonly name = 'triggers';
  readonly filter = { streamPrefixes: ['customer-', TRIGGER_STREAM, SETTINGS_STREAM] };
  private readonly triggers = new Map<string, Map<string, Loaded>>();
  /** Each workspace's default quiet hours, as its settings stood at the event being decided. */
  private readonly quietHours = new Map<string, QuietHours>();
  private readonly views: CustomerDecisions<CustomerView>;
  private loadedUpTo?: bigint;

  /**
   * `onMatched`: called for each live TriggerMatched this reactor decides (for metrics; a replay after a crash may repeat
   * one; a shadow run's are not counted). `keepHistory`: views keep every record (to compare decisions with and without
   * pruning). `renderReply`: renders `reply` bodies (default: the messaging lib's bounded Liquid, `replyRenderer()`, the
   * one the backtest uses too).
   */
  constructor(
    options: {
      cacheSize?: number;
      onMatched?: (triggerId: string, version: number) => void;
      keepHistory?: boolean;
      renderReply?: ReplyRenderer;
    } = {},
  ) {
    const renderReply = options.renderReply ?? replyRenderer();
    this.views = new CustomerDecisions<CustomerView>(
      {
        initial: emptyCustomerView,
        evolve: (view, e) => (e.type === 'CustomerMergedInto' ? ((view as MergedView).mergedInto = true) : applyToView(view, e), view),
        isEffect: (e) => e.metadata.source === TRIGGER_SOURCE,
        // identity merge (#12): a merged id's copied history is folded, never decided on (it was decided on live, under
        // that id), and nothing is decided on a stream once it is merged into another customer (its later calls go there)
        isInput: (e) => !TRIGGER_BOOKKEEPING_TYPES.has(e.type) && !isMergedCopy(e) && e.type !== 'CustomerMergedInto',
        decide: (view, e, now, folded) => {
          if ((view as MergedView).mergedInto) {
            if (!folded) applyToView(view, e);
            return { state: view, effects: [] };
          }
          const workspaceId = e.metadata.workspaceId;
          const programs = this.workspace(workspaceId).programs;
          const effects = decideOnView(programs, view, e, now, undefined, folded, renderReply, this.quietHours.get(workspaceId));
          for (const m of effects)
            if (m.type === 'TriggerMatched' && m.data.shadow !== true)
              options.onMatched?.(String(m.data.triggerId), Number(m.data.version));
          return { state: view, effects };
        },
        settle: (view, e, now) => {
          if (!options.keepHistory) pruneView(view, this.workspace(e.metadata.workspaceId).needs, now.getTime());
          return view;
        },
      },
      options.cacheSize,
    );
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
    for (const event of events) {
      const workspaceId = event.metadata.workspaceId;
      // a trigger defined or enabled that reads further back than the views kept: rebuild the workspace's views
      if (event.streamId.startsWith(SETTINGS_STREAM)) {
        this.applySettings(event);
      } else if (event.streamId.startsWith(TRIGGER_STREAM)) {
        if (this.applyDefinition(event, true)) await this.views.refresh((e) => e.workspaceId === workspaceId, ctx.store);
      } else if (ctx.owns(workspaceId, event.metadata.customerId) && this.workspace(workspaceId).programs.length > 0) {
        await this.views.decide(event, ctx);
      }
    }
    return this.views.end(events);
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
    for (let after = 0n; after < before;) {
      const page = await ctx.store.readAll({ after, filter, maxCount: DEFINITIONS_PAGE });
      for (const e of page) if (e.position < before) this.applyDefinition(e, false);
      after = page.length === DEFINITIONS_PAGE ? page[page.length - 1].position : before;
    }
    const settings = { streamPrefixes: [SETTINGS_STREAM], eventTypes: [SETTINGS_CHANGED] };
    for (let after = 0n; after < before;) {
      const page = await ctx.store.readAll({ after, filter: settings, maxCount: DEFINITIONS_PAGE });
      for (const e of page) if (e.position < before) this.applySettings(e);
      after = page.length === DEFINITIONS_PAGE ? page[page.length - 1].position : before;
    }
    this.loadedUpTo = before;
  }

  /** A settings change: the workspace's default quiet hours from now on in the log. */
  private applySettings(event: JourneyEvent): void {
    if (event.type !== SETTINGS_CHANGED) return;
    const quiet = (event.data as { settings?: { quietHours?: QuietHours } }).settings?.quietHours;
    if (quiet) this.quietHours.set(event.metadata.workspaceId, quiet);
    else this.quietHours.delete(event.metadata.workspaceId);
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
