import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import {
  MESSAGE_STATUS,
  TRIGGER_SOURCE,
  broadcastStreamId,
  compileTrigger,
  foldBroadcast,
  customerStreamId,
  evolveTrigger,
  initialTriggerState,
  triggerStreamId,
  type EventDataByType,
  type GuardVerdict,
  type RecordedEvent,
} from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import {
  LIFT_CONVERSION_WINDOW_DAYS,
  MESSAGES,
  READ_MODEL_STORE,
  TRIGGER_GOALS,
  TRIGGER_LIFT,
  TRIGGER_RUNS,
  TRIGGER_SHADOW_MESSAGES,
  TRIGGER_STEPS,
  groupConversion,
  liftFigures,
  messageDocId,
  splitKey,
  type FieldValue,
  type GroupConversion,
  type LiftFigures,
  type MessageDoc,
  type ReadModelStore,
  type StepDoc,
} from '@journey/read-models';

/** The projection's document ids: encoded parts joined by `/`. */
const docIdOf = (...parts: Array<string | number>) => parts.map((p) => encodeURIComponent(String(p))).join('/');

const RUN_TYPES = new Set(['TriggerMatched', 'TriggerRunStepEntered', 'TriggerRunExited']);

export interface ExplainedEvent {
  id: string;
  type: string;
  occurredAt?: string;
  recordedAt?: string;
  source?: string;
  /** The track event's name, a timer's purpose, ... */
  detail?: string;
}

export interface MessageExplanation {
  messageId: string;
  customerId: string;
  channel: string;
  status: MessageDoc['status'];
  decision: { event: ExplainedEvent; outcome: 'scheduled' | 'suppressed'; reason?: string; detail?: string; notBefore?: string };
  /** From the decision back to the root: the event that caused it, what caused that, ... */
  causedBy: ExplainedEvent[];
  trigger?: { id: string; name?: string; version: number; step: string; stepDefinition?: unknown; runId?: string; run: ExplainedEvent[] };
  template?: { id?: string; version?: number; subject?: string; body: string };
  /** A broadcast's message: the broadcast, its segment, when and with which guards, and the broadcast stream's events. */
  broadcast?: {
    id: string;
    segmentId?: string;
    status?: string;
    at?: string;
    localTime?: string;
    startAt?: string;
    guards?: unknown;
    by?: string;
    events: ExplainedEvent[];
  };
  guards: GuardVerdict[];
  delivery: Array<ExplainedEvent & { attempt?: number }>;
}

export interface StepStats {
  step: string;
  kind: string;
  entered: number;
  scheduled: number;
  sent: number;
  delivered: number;
  failed: number;
  opened: number;
  clicked: number;
  suppressed: Record<string, number>;
  /** Runs that ended on a goal exit rule while at this step. */
  converted: number;
}

/** One mode of a version (live, or shadow: deciding without sending): runs, messages (that would be) sent, conversions. */
export interface ModeStats {
  runs: number;
  /** Runs ended by a goal exit rule. */
  converted: number;
  conversionRate: number | null;
  /** Live: messages scheduled by channel (test sends excluded); shadow: the sends MessageShadowed says would have been scheduled. */
  messages: Record<string, number>;
  /** By reason. */
  suppressed: Record<string, number>;
}

/** Treated (a variant) vs the holdout, for lift. */
export interface VariantLift extends GroupConversion, LiftFigures {
  variant: string;
}

export interface ModeLift {
  holdout: GroupConversion;
  /** Every variant together. */
  treated: GroupConversion & LiftFigures;
  variants: VariantLift[];
}

export interface VersionLift {
  /**
   * Conversion, the same for treated and held-out runs: a goal event (`goals`, the event names of the version's exit
   * rules) within `windowDays` after the run matched, counted on the day it happened.
   */
  goals: string[];
  windowDays: number;
  /** The last UTC day counted (`?asOf=`), or null: everything so far. */
  asOf: string | null;
  live: ModeLift | null;
  shadow: ModeLift | null;
}

export interface TriggerVersionStats {
  triggerId: string;
  version: number;
  /** Runs started; `treated` excludes the holdout. */
  runs: number;
  treated: number;
  converted: number;
  conversionRate: number | null;
  holdout: { runs: number; converted: number; conversionRate: number | null };
  steps: StepStats[];
  /** Live vs shadow runs of this version (`shadow` null when it never ran in shadow). */
  live: ModeStats;
  shadow: ModeStats | null;
  /** Treated vs holdout conversion and lift per variant; null when no run of the version was assigned at a split. */
  lift: VersionLift | null;
}

/** The read side of triggers: why a message was sent or suppressed, and per trigger step analytics. */
@Injectable()
export class TriggerInsightsService {
  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
  ) {}

  async explain(workspaceId: string, messageId: string): Promise<MessageExplanation> {
    const found = await this.readModels.get<MessageDoc>(MESSAGES, messageDocId(workspaceId, messageId));
    if (!found) throw new NotFoundException(`message "${messageId}" not found`);
    const message = found.doc;
    const stream = await this.events.readStream(customerStreamId(workspaceId, message.customerId));
    const byId = new Map(stream.map((e) => [e.id, e]));
    const own = stream.filter((e) => (MESSAGE_STATUS.has(e.type) || e.type === 'MessageResendRequested') && e.data.messageId === messageId);
    const decision =
      own.find((e) => e.type === 'MessageScheduled') ??
      own.find((e) => e.type === 'MessageSuppressed' && (e.metadata.source === TRIGGER_SOURCE || e.data.broadcastId !== undefined)) ??
      own[0];
    if (!decision)
      throw new NotFoundException(`message "${messageId}" has no events in customer "${message.customerId}"'s stream (forgotten?)`);
    const data = decision.data as EventDataByType['MessageScheduled'] & Partial<EventDataByType['MessageSuppressed']>;
    const suppressedByTrigger = decision.type === 'MessageSuppressed';
    // a broadcast's message: its cause (the broadcast's start, or the member's local-time timer) and the broadcast
    const broadcast = data.broadcastId ? await this.broadcastOf(workspaceId, data.broadcastId) : undefined;
    for (const e of broadcast?.stream ?? []) byId.set(e.id, e);

    const causedBy = causalChain(decision, byId);

    return {
      messageId,
      customerId: message.customerId,
      channel: data.channel,
      status: message.status,
      decision: {
        event: describe(decision),
        outcome: suppressedByTrigger ? 'suppressed' : 'scheduled',
        ...(suppressedByTrigger ? { reason: data.reason, detail: data.detail } : {}),
        ...(data.notBefore ? { notBefore: data.notBefore } : {}),
      },
      causedBy,
      ...(data.triggerId ? { trigger: await this.triggerOf(workspaceId, data, stream) } : {}),
      ...(broadcast ? { broadcast: broadcast.explained } : {}),
      ...(suppressedByTrigger
        ? {}
        : { template: { id: data.templateId, version: data.templateVersion, subject: data.template?.subject, body: data.template?.body } }),
      guards: data.guards ?? [],
      delivery: own
        .filter((e) => e !== decision && e.type !== 'MessageScheduled')
        .map((e) => {
          const d = e.data as Record<string, unknown>;
          const detail =
            e.type === 'MessageResendRequested'
              ? `re-send ${String(d.resend)} requested`
              : d.reason !== undefined
                ? `${String(d.reason)}${d.detail ? `: ${String(d.detail)}` : ''}`
                : (d.error ?? d.detail ?? d.url);
          return {
            ...describe(e),
            ...(detail !== undefined ? { detail: String(detail) } : {}),
            attempt: Number(d.attempt ?? d.attempts) || undefined,
          };
        }),
    };
  }

  /** The broadcast a message belongs to: its definition, segment, status and its stream's events. */
  private async broadcastOf(workspaceId: string, broadcastId: string) {
    const stream = await this.events.readStream(broadcastStreamId(workspaceId, broadcastId));
    const state = foldBroadcast(broadcastId, stream);
    const d = state.definition;
    if (!d) return { stream, explained: { id: broadcastId, events: [] } };
    const explained: NonNullable<MessageExplanation['broadcast']> = {
      id: broadcastId,
      segmentId: d.segmentId,
      ...(state.status ? { status: state.status } : {}),
      ...(d.at !== undefined ? { at: d.at } : {}),
      ...(d.localTime !== undefined ? { localTime: d.localTime } : {}),
      startAt: d.startAt,
      ...(d.guards ? { guards: d.guards } : {}),
      ...(d.by ? { by: d.by } : {}),
      events: stream.map(describe),
    };
    return { stream, explained };
  }

  /** Lift per version: treated (each variant, and all together) vs holdout, live and shadow, as of a day. */
  private async lift(
    versionOf: (id: string, version: number) => TriggerVersionStats,
    assigned: Counts,
    converted: Counts,
    workspaceId: string,
    asOf: string | undefined,
  ): Promise<void> {
    const runs = byGroup(assigned, asOf);
    const wins = byGroup(converted, asOf);
    const versions = new Map<string, { id: string; version: number; live: ModeGroups; shadow: ModeGroups }>();
    type ModeGroups = Array<{ variant: string; runs: number; converted: number }>;
    for (const [group, n] of runs) {
      const [id, version, mode, variant] = splitKey(group);
      const key = `${id}\u001f${version}`;
      let v = versions.get(key);
      if (!v) versions.set(key, (v = { id, version: Number(version), live: [], shadow: [] }));
      (mode === 'shadow' ? v.shadow : v.live).push({ variant, runs: n, converted: wins.get(group) ?? 0 });
    }
    await Promise.all(
      [...versions.values()].map(async (v) => {
        const goals = await this.readModels.get<{ events: string[] }>(TRIGGER_GOALS, docIdOf(workspaceId, v.id, v.version));
        versionOf(v.id, v.version).lift = {
          goals: goals?.doc.events ?? [],
          windowDays: LIFT_CONVERSION_WINDOW_DAYS,
          asOf: asOf ?? null,
          live: modeLift(v.live),
          shadow: modeLift(v.shadow),
        };
      }),
    );
  }

  private async triggerOf(
    workspaceId: string,
    data: EventDataByType['MessageScheduled'],
    stream: RecordedEvent[],
  ): Promise<MessageExplanation['trigger']> {
    const triggerId = data.triggerId!;
    const version = data.triggerVersion ?? 0;
    const state = (await this.events.readStream(triggerStreamId(workspaceId, triggerId))).reduce(
      evolveTrigger,
      initialTriggerState(triggerId),
    );
    const definition = state.definitions[version];
    const step = data.step ?? '';
    const compiled = definition && step ? compileTrigger(definition, version).steps.get(step) : undefined;
    return {
      id: triggerId,
      name: definition?.name,
      version,
      step,
      ...(compiled ? { stepDefinition: compiled } : {}),
      runId: data.runId,
      run: stream.filter((e) => RUN_TYPES.has(e.type) && e.data.runId === data.runId).map(describe),
    };
  }

  async analytics(workspaceId: string, triggerId?: string, asOf?: string): Promise<TriggerVersionStats[]> {
    const where: Record<string, FieldValue> = { workspaceId, ...(triggerId ? { triggerId } : {}) };
    const count = async (collection: string, field: string, extra: Record<string, FieldValue> = {}) =>
      new Map(
        (await this.readModels.countBy(collection, field, { ...where, ...extra }))
          .filter((r) => r.value)
          .map((r) => [String(r.value), r.count]),
      );
    const [
      steps,
      scheduled,
      sent,
      delivered,
      failed,
      opened,
      clicked,
      suppressed,
      runs,
      converted,
      convertedAt,
      holdouts,
      holdoutsConverted,
      channels,
      shadowRuns,
      shadowConverted,
      shadowSends,
      shadowSuppressed,
      liftAssigned,
      liftConverted,
    ] = await Promise.all([
      this.readModels.find<StepDoc>(TRIGGER_STEPS, where),
      count(MESSAGES, 'key', { scheduled: 1 }),
      count(MESSAGES, 'key', { sent: 1 }),
      count(MESSAGES, 'key', { delivered: 1 }),
      count(MESSAGES, 'key', { failed: 1 }),
      count(MESSAGES, 'key', { opened: 1 }),
      count(MESSAGES, 'key', { clicked: 1 }),
      count(MESSAGES, 'suppressedKey'),
      count(TRIGGER_RUNS, 'key'),
      count(TRIGGER_RUNS, 'key', { converted: 1 }),
      count(TRIGGER_RUNS, 'stepKey', { converted: 1 }),
      count(TRIGGER_RUNS, 'key', { holdout: 1 }),
      count(TRIGGER_RUNS, 'key', { holdoutConverted: 1 }),
      count(MESSAGES, 'channelKey', { scheduled: 1 }),
      count(TRIGGER_RUNS, 'shadowKey'),
      count(TRIGGER_RUNS, 'shadowKey', { converted: 1 }),
      count(TRIGGER_SHADOW_MESSAGES, 'wouldSendKey'),
      count(TRIGGER_SHADOW_MESSAGES, 'suppressedKey'),
      count(TRIGGER_LIFT, 'assigned'),
      count(TRIGGER_LIFT, 'converted'),
    ]);
    const versions = new Map<string, TriggerVersionStats>();
    const versionOf = (id: string, version: number) => {
      const key = `${id}\u001f${version}`;
      let v = versions.get(key);
      if (!v) {
        const all = runs.get(key) ?? 0;
        const held = holdouts.get(key) ?? 0;
        const won = converted.get(key) ?? 0;
        const heldWon = holdoutsConverted.get(key) ?? 0;
        v = {
          triggerId: id,
          version,
          runs: all,
          treated: all - held,
          converted: won,
          conversionRate: rate(won, all - held),
          holdout: { runs: held, converted: heldWon, conversionRate: rate(heldWon, held) },
          steps: [],
          live: { runs: all, converted: won, conversionRate: rate(won, all), messages: {}, suppressed: {} },
          shadow: shadowRuns.has(key)
            ? {
                runs: shadowRuns.get(key)!,
                converted: shadowConverted.get(key) ?? 0,
                conversionRate: rate(shadowConverted.get(key) ?? 0, shadowRuns.get(key)!),
                messages: {},
                suppressed: {},
              }
            : null,
          lift: null,
        };
        versions.set(key, v);
      }
      return v;
    };
    for (const key of [...runs.keys(), ...shadowRuns.keys()]) {
      const [id, version] = splitKey(key);
      versionOf(id, Number(version));
    }
    for (const [key, n] of channels) {
      const [id, version, channel] = splitKey(key);
      versionOf(id, Number(version)).live.messages[channel] = n;
    }
    for (const [key, n] of shadowSends) {
      const [id, version, channel] = splitKey(key);
      const shadow = versionOf(id, Number(version)).shadow;
      if (shadow) shadow.messages[channel] = n;
    }
    for (const [key, n] of shadowSuppressed) {
      const [id, version, reason] = splitKey(key);
      const shadow = versionOf(id, Number(version)).shadow;
      if (shadow) shadow.suppressed[reason] = n;
    }
    await this.lift(versionOf, liftAssigned, liftConverted, workspaceId, asOf);
    const suppressedByStep = new Map<string, Record<string, number>>();
    for (const [key, n] of suppressed) {
      const [id, version, step, reason] = splitKey(key);
      const k = `${id}\u001f${version}\u001f${step}`;
      suppressedByStep.set(k, { ...suppressedByStep.get(k), [reason]: n });
      const live = versionOf(id, Number(version)).live.suppressed;
      live[reason] = (live[reason] ?? 0) + n;
    }
    for (const { doc } of steps) {
      if (doc.mode === 'shadow') continue;
      const k = `${doc.triggerId}\u001f${doc.version}\u001f${doc.step}`;
      versionOf(doc.triggerId, doc.version).steps.push({
        step: doc.step,
        kind: doc.kind,
        entered: doc.entered,
        scheduled: scheduled.get(k) ?? 0,
        sent: sent.get(k) ?? 0,
        delivered: delivered.get(k) ?? 0,
        failed: failed.get(k) ?? 0,
        opened: opened.get(k) ?? 0,
        clicked: clicked.get(k) ?? 0,
        suppressed: suppressedByStep.get(k) ?? {},
        converted: convertedAt.get(k) ?? 0,
      });
    }
    for (const v of versions.values()) v.steps.sort((a, b) => a.step.localeCompare(b.step, 'en', { numeric: true }));
    return [...versions.values()].sort((a, b) => a.triggerId.localeCompare(b.triggerId) || a.version - b.version);
  }
}

type Counts = Map<string, number>;

/** Per lift group (trigger, version, mode, variant): runs assigned and converted up to `asOf` (a UTC day), from the daily keys. */
function byGroup(counts: Counts, asOf: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, n] of counts) {
    const parts = splitKey(key);
    const day = parts.pop()!;
    if (asOf !== undefined && day > asOf) continue;
    const group = parts.join('\u001f');
    out.set(group, (out.get(group) ?? 0) + n);
  }
  return out;
}

function modeLift(groups: Array<{ variant: string; runs: number; converted: number }>): ModeLift | null {
  if (groups.length === 0) return null;
  const held = groups.find((g) => g.variant === 'holdout') ?? { variant: 'holdout', runs: 0, converted: 0 };
  const treated = groups.filter((g) => g.variant !== 'holdout');
  const nt = treated.reduce((n, g) => n + g.runs, 0);
  const xt = treated.reduce((n, g) => n + g.converted, 0);
  return {
    holdout: groupConversion(held.converted, held.runs),
    treated: { ...groupConversion(xt, nt), ...liftFigures(xt, nt, held.converted, held.runs) },
    variants: treated
      .sort((a, b) => a.variant.localeCompare(b.variant))
      .map((g) => ({
        variant: g.variant,
        ...groupConversion(g.converted, g.runs),
        ...liftFigures(g.converted, g.runs, held.converted, held.runs),
      })),
  };
}

const rate = (n: number, of: number) => (of > 0 ? Math.round((n / of) * 10_000) / 10_000 : null);

/** An event as explain shows it: its id, type, times, source and a one-line detail where its type has one. */
export function describe(e: RecordedEvent): ExplainedEvent {
  const d = e.data as Record<string, unknown>;
  const detail =
    e.type === 'InteractionRecorded'
      ? String(d.event)
      : e.type.startsWith('Timer')
        ? `timer ${String(d.timerId)}${d.dueAt ? ` due ${String(d.dueAt)}` : ''}${d.reason ? `: ${String(d.reason)}` : ''}`
        : e.type === 'TriggerRunStepEntered'
          ? `step ${String(d.step)} (${String(d.kind)}${d.variant ? ` ${String(d.variant)}` : ''})`
          : e.type === 'TriggerRunExited'
            ? String(d.reason)
            : e.type === 'ConversationAssigned'
              ? [d.team, d.assignee, d.priority, d.reason].filter(Boolean).join(', ')
              : e.type === 'AgentReplied'
                ? d.automated
                  ? `automated by trigger ${String(d.triggerId)}`
                  : `by ${String(d.by)}`
                : undefined;
  // a keyed or shadow run is named by its key and mark
  const run =
    e.type === 'TriggerMatched' ? [d.key !== undefined && `key ${String(d.key)}`, d.shadow && 'shadow'].filter(Boolean).join(', ') : '';
  return {
    id: e.id,
    type: e.type,
    occurredAt: e.metadata.occurredAt,
    recordedAt: e.metadata.recordedAt,
    source: e.metadata.source,
    ...(detail !== undefined ? { detail } : run ? { detail: run } : {}),
  };
}

/** The causes of `event`, nearest first, followed through the customer's stream (`byId`) by their causation ids. */
export function causalChain(event: RecordedEvent, byId: ReadonlyMap<string, RecordedEvent>): ExplainedEvent[] {
  const causedBy: ExplainedEvent[] = [];
  const seen = new Set<string>();
  for (let id = event.metadata.causationId; id && !seen.has(id);) {
    seen.add(id);
    const cause = byId.get(id);
    if (!cause) {
      causedBy.push({ id, type: 'unknown', detail: "not in the customer's stream" });
      break;
    }
    causedBy.push(describe(cause));
    id = cause.metadata.causationId;
  }
  return causedBy;
}
