import {
  MESSAGE_STATUS,
  activityRecord,
  type EventDataByType,
  type RecordedEvent,
  type Signal,
  type TriggerDefinition,
} from '@journey/domain';
import { DocBatch, type DocLookup, type DocRef, type Projection, type PutDoc } from '../projection';

/** `messages`: one document per message (any channel, any origin): who it is for, which trigger step sent it, its fate. */
export const MESSAGES = 'messages';
/** `trigger_steps`: how many runs entered each step of each trigger version. */
export const TRIGGER_STEPS = 'trigger_steps';
/** `trigger_runs`: one document per run: where it is, how it ended, whether it converted (holdouts too). */
export const TRIGGER_RUNS = 'trigger_runs';
/** `trigger_goals`: per trigger version, the exit reasons that are goals and the event names of their signals. */
export const TRIGGER_GOALS = 'trigger_goals';
/** `trigger_holdouts`: per customer, the holdout runs still waiting for a goal event (to measure holdout conversion). */
export const TRIGGER_HOLDOUTS = 'trigger_holdouts';
/** `trigger_shadow_messages`: one document per MessageShadowed (what a shadow run's send would have been). */
export const TRIGGER_SHADOW_MESSAGES = 'trigger_shadow_messages';
/**
 * `trigger_lift`: one document per run assigned at a split (a variant or the holdout), live or shadow: the day it was
 * assigned and the day it converted, if it did (see `LIFT_CONVERSION_WINDOW_DAYS`), so lift is computable as of any day.
 */
export const TRIGGER_LIFT = 'trigger_lift';

/**
 * Conversion for lift, the same for treated and held-out runs: the customer does a goal event (an event named by one
 * of the version's `exit` rules' signals, by name: their property filters are not re-evaluated) within this many days
 * after the run matched, whether or not the run is still active then.
 */
export const LIFT_CONVERSION_WINDOW_DAYS = 30;
const LIFT_WINDOW_MS = LIFT_CONVERSION_WINDOW_DAYS * 86_400_000;

const SEP = '\u001f';
/** Grouping keys stored on the documents (the store counts by one field): trigger + version, and + step. */
export const versionKey = (triggerId: string, version: number) => `${triggerId}${SEP}${version}`;
export const stepKey = (triggerId: string, version: number, step: string) => `${versionKey(triggerId, version)}${SEP}${step}`;
export const splitKey = (key: string) => key.split(SEP);

const docId = (...parts: Array<string | number>) => parts.map((p) => encodeURIComponent(String(p))).join('/');
export const messageDocId = (workspaceId: string, messageId: string) => docId(workspaceId, messageId);

export interface MessageDoc {
  workspaceId: string;
  customerId: string;
  messageId: string;
  channel: string;
  /** Empty for messages that no trigger sent. */
  triggerId: string;
  version: number;
  step: string;
  runId: string;
  /** stepKey(...) or '' */
  key: string;
  status: 'scheduled' | 'sent' | 'delivered' | 'failed' | 'suppressed';
  scheduled: 0 | 1;
  sent: 0 | 1;
  delivered: 0 | 1;
  failed: 0 | 1;
  opened: 0 | 1;
  clicked: 0 | 1;
  attempts: number;
  suppressedReason: string;
  /** key + reason when suppressed, else '' (to count suppressions by step and reason). */
  suppressedKey: string;
  /** A test send (preview): never counted (no key, no channelKey, no suppressedKey). */
  test?: 0 | 1;
  /** versionKey + channel of a trigger's message, else '' (to count messages by version and channel). */
  channelKey?: string;
}

/** What a shadow run's send would have been (MessageShadowed). */
export interface ShadowMessageDoc {
  workspaceId: string;
  customerId: string;
  messageId: string;
  triggerId: string;
  version: number;
  step: string;
  channel: string;
  /** versionKey + channel when it would have been scheduled, else ''. */
  wouldSendKey: string;
  /** versionKey + reason when it would have been suppressed, else ''. */
  suppressedKey: string;
}

/** A run assigned at a split, for lift: its group and the days it was assigned and converted (UTC, YYYY-MM-DD). */
export interface LiftDoc {
  workspaceId: string;
  customerId: string;
  runId: string;
  triggerId: string;
  version: number;
  mode: 'live' | 'shadow';
  /** The variant's name, or `holdout`. */
  variant: string;
  /** liftGroup(...) + day assigned. */
  assigned: string;
  /** liftGroup(...) + day converted, or ''. */
  converted: string;
}

export const liftGroup = (triggerId: string, version: number, mode: 'live' | 'shadow', variant: string) =>
  `${versionKey(triggerId, version)}${SEP}${mode}${SEP}${variant}`;

export interface StepDoc {
  workspaceId: string;
  triggerId: string;
  version: number;
  step: string;
  kind: string;
  entered: number;
  /** A shadow version's step (kept apart from the live counts). */
  mode?: 'shadow';
}

export interface RunDoc {
  workspaceId: string;
  customerId: string;
  runId: string;
  triggerId: string;
  version: number;
  /** versionKey(...) */
  key: string;
  /** The last step entered ('' before the first), and stepKey(...) of it. */
  step: string;
  stepKey: string;
  variant: string;
  exitReason: string;
  converted: 0 | 1;
  holdout: 0 | 1;
  holdoutConverted: 0 | 1;
  /** A shadow run: `key` and `stepKey` are '' (live counts leave it out) and `shadowKey` is versionKey(...). */
  mode?: 'live' | 'shadow';
  shadowKey?: string;
  /** recordedAt of its TriggerMatched. */
  matchedAt?: string;
}

interface GoalsDoc {
  reasons: string[];
  events: string[];
}

interface HoldoutsDoc {
  workspaceId: string;
  customerId: string;
  pending: Array<{ run: RunDoc; goals: string[] }>;
  /** Assigned runs (live and shadow) waiting for a goal event until `deadline` (ms): lift conversion. */
  lift?: Array<{ doc: LiftDoc; goals: string[]; deadline: number }>;
}

/** The event names a goal signal waits for (through all/any; `not` and non-event signals name none). */
function goalEvents(signal: Signal): string[] {
  if ('event' in signal) return [signal.event];
  if ('all' in signal) return signal.all.flatMap(goalEvents);
  if ('any' in signal) return signal.any.flatMap(goalEvents);
  return [];
}

function goalsOf(definition: TriggerDefinition): GoalsDoc {
  const exits = definition.exit ?? [];
  return {
    reasons: [...new Set(exits.map((x) => x.reason ?? 'goal reached'))],
    events: [...new Set(exits.flatMap((x) => goalEvents(x.when)))],
  };
}

const isCustomerEvent = (e: RecordedEvent) => e.streamId.startsWith('customer-') && !!e.metadata.customerId;

/**
 * `trigger-analytics`: per trigger, version and step — runs that entered, messages scheduled, suppressed (by reason),
 * sent, delivered, failed, opened, clicked; per version — runs converted (ended by a goal exit rule) and, for the
 * holdout of a split, how many held-out customers later did a goal event anyway (holdout conversion, by the event
 * names of the goal signals; their property filters are not re-evaluated). Counts are per entity documents (message,
 * run) grouped by the store, because delivery outcomes only carry the message id. The `messages` collection is also
 * the message id -> customer lookup that explain uses.
 */
export const triggerAnalyticsProjection: Projection = {
  name: 'trigger-analytics',
  collections: [
    {
      name: MESSAGES,
      indexes: [
        ['workspaceId', 'key'],
        ['workspaceId', 'suppressedKey'],
        ['workspaceId', 'channelKey'],
      ],
    },
    { name: TRIGGER_STEPS, indexes: [['workspaceId']] },
    {
      name: TRIGGER_RUNS,
      indexes: [
        ['workspaceId', 'key'],
        ['workspaceId', 'stepKey'],
        ['workspaceId', 'shadowKey'],
      ],
    },
    { name: TRIGGER_GOALS, indexes: [] },
    { name: TRIGGER_HOLDOUTS, indexes: [] },
    {
      name: TRIGGER_SHADOW_MESSAGES,
      indexes: [
        ['workspaceId', 'wouldSendKey'],
        ['workspaceId', 'suppressedKey'],
      ],
    },
    { name: TRIGGER_LIFT, indexes: [['workspaceId', 'triggerId']] },
  ],
  reads(events: readonly RecordedEvent[]): DocRef[] {
    const refs = new Map<string, DocRef>();
    const add = (collection: string, id: string) => refs.set(`${collection}/${id}`, { collection, id });
    for (const e of events) {
      const ws = e.metadata.workspaceId;
      const d = e.data as Record<string, unknown>;
      if (MESSAGE_STATUS.has(e.type)) add(MESSAGES, messageDocId(ws, String(d.messageId)));
      if (e.type === 'TriggerDefined') add(TRIGGER_GOALS, docId(ws, String(d.triggerId), Number(d.version)));
      if (e.type === 'TriggerMatched' || e.type === 'TriggerRunStepEntered' || e.type === 'TriggerRunExited')
        add(TRIGGER_RUNS, runDocId(ws, String(d.runId), d.shadow === true));
      if (e.type === 'TriggerRunStepEntered') {
        add(TRIGGER_STEPS, stepDocId(ws, String(d.triggerId), Number(d.version), String(d.step), d.shadow === true));
        if (d.variant !== undefined) add(TRIGGER_GOALS, docId(ws, String(d.triggerId), Number(d.version)));
      }
      if (e.type === 'MessageShadowed') add(TRIGGER_SHADOW_MESSAGES, docId(ws, String(d.messageId)));
      if (e.type === 'TriggerRunExited') add(TRIGGER_GOALS, docId(ws, String(d.triggerId), Number(d.version)));
      if (isCustomerEvent(e)) add(TRIGGER_HOLDOUTS, docId(ws, e.metadata.customerId));
    }
    return [...refs.values()];
  },
  apply(events: readonly RecordedEvent[], docs: DocLookup): PutDoc[] {
    const batch = new DocBatch(docs);
    for (const e of events) {
      const ws = e.metadata.workspaceId;
      const customerId = e.metadata.customerId;
      const pos = e.position;
      if (MESSAGE_STATUS.has(e.type)) applyMessage(batch, e);
      switch (e.type) {
        case 'TriggerDefined': {
          const d = e.data as EventDataByType['TriggerDefined'];
          const doc = goalsOf(d.definition as unknown as TriggerDefinition);
          batch.update<GoalsDoc>(
            TRIGGER_GOALS,
            docId(ws, d.triggerId, d.version),
            pos,
            () => doc,
            () => doc,
          );
          break;
        }
        case 'TriggerMatched': {
          const d = e.data as EventDataByType['TriggerMatched'];
          const shadow = d.shadow === true;
          const run: RunDoc = {
            workspaceId: ws,
            customerId,
            runId: d.runId,
            triggerId: d.triggerId,
            version: d.version,
            key: shadow ? '' : versionKey(d.triggerId, d.version),
            step: '',
            stepKey: '',
            variant: '',
            exitReason: '',
            converted: 0,
            holdout: 0,
            holdoutConverted: 0,
            mode: shadow ? 'shadow' : 'live',
            shadowKey: shadow ? versionKey(d.triggerId, d.version) : '',
            matchedAt: e.metadata.recordedAt,
          };
          batch.update<RunDoc>(
            TRIGGER_RUNS,
            runDocId(ws, d.runId, shadow),
            pos,
            () => run,
            (r) => r,
          );
          break;
        }
        case 'TriggerRunStepEntered': {
          const d = e.data as EventDataByType['TriggerRunStepEntered'];
          const shadow = d.shadow === true;
          batch.update<StepDoc>(
            TRIGGER_STEPS,
            stepDocId(ws, d.triggerId, d.version, d.step, shadow),
            pos,
            () => ({
              workspaceId: ws,
              triggerId: d.triggerId,
              version: d.version,
              step: d.step,
              kind: d.kind,
              entered: 0,
              ...(shadow ? { mode: 'shadow' as const } : {}),
            }),
            (s) => ({ ...s, entered: s.entered + 1 }),
          );
          const before = batch.get<RunDoc>(TRIGGER_RUNS, runDocId(ws, d.runId, shadow))?.doc;
          updateRun(batch, runDocId(ws, d.runId, shadow), pos, (r) => ({
            ...r,
            step: d.step,
            stepKey: shadow ? '' : stepKey(d.triggerId, d.version, d.step),
            ...(d.variant ? { variant: d.variant } : {}),
          }));
          if (d.variant !== undefined && before && before.variant === '') assignForLift(batch, e, d, before);
          break;
        }
        case 'TriggerRunExited': {
          const d = e.data as EventDataByType['TriggerRunExited'];
          const goal = batch.get<GoalsDoc>(TRIGGER_GOALS, docId(ws, d.triggerId, d.version))?.doc;
          const runId = runDocId(ws, d.runId, d.shadow === true);
          updateRun(batch, runId, pos, (r) => ({
            ...r,
            exitReason: d.reason,
            converted: goal?.reasons.includes(d.reason) ? 1 : 0,
            holdout: d.reason === 'holdout' ? 1 : 0,
          }));
          const run = batch.get<RunDoc>(TRIGGER_RUNS, runId)?.doc;
          // the legacy holdout conversion (any later goal event) is live runs' only; lift has its own, windowed
          if (run?.holdout && run.mode !== 'shadow' && run.exitReason === d.reason && goal?.events.length) {
            batch.update<HoldoutsDoc>(
              TRIGGER_HOLDOUTS,
              docId(ws, customerId),
              pos,
              () => ({ workspaceId: ws, customerId, pending: [] }),
              (h) => ({
                ...h,
                pending: [...h.pending.filter((p) => p.run.runId !== run.runId), { run, goals: goal.events }],
              }),
            );
          }
          break;
        }
        case 'MessageShadowed': {
          const d = e.data as EventDataByType['MessageShadowed'];
          const key = versionKey(d.triggerId, d.triggerVersion);
          const doc: ShadowMessageDoc = {
            workspaceId: ws,
            customerId,
            messageId: d.messageId,
            triggerId: d.triggerId,
            version: d.triggerVersion,
            step: d.step,
            channel: d.channel,
            wouldSendKey: d.suppressed ? '' : `${key}${SEP}${d.channel}`,
            suppressedKey: d.suppressed ? `${key}${SEP}${d.suppressed.reason}` : '',
          };
          batch.update<ShadowMessageDoc>(
            TRIGGER_SHADOW_MESSAGES,
            docId(ws, d.messageId),
            pos,
            () => doc,
            () => doc,
          );
          break;
        }
        default: {
          const activity = isCustomerEvent(e) ? activityRecord(e) : undefined;
          if (activity) convertHoldouts(batch, e, activity.name);
        }
      }
    }
    return batch.puts();
  },
};

/** Run (and lift) documents: a shadow run's apart from a live one, whatever ids the runtime gives them. */
const runDocId = (ws: string, runId: string, shadow: boolean) => (shadow ? docId(ws, runId, 'shadow') : docId(ws, runId));

/** Step documents: a shadow version's steps apart from the live ones. */
const stepDocId = (ws: string, triggerId: string, version: number, step: string, shadow: boolean) =>
  shadow ? docId(ws, triggerId, version, step, 'shadow') : docId(ws, triggerId, version, step);

/**
 * A run's first split assignment (a variant or the holdout): its lift document, and a wait for a goal event within the
 * window after it matched (none when the version has no goal events: it is assigned, never converted).
 */
function assignForLift(batch: DocBatch, e: RecordedEvent, d: EventDataByType['TriggerRunStepEntered'], run: RunDoc): void {
  const ws = e.metadata.workspaceId;
  const mode = d.shadow === true ? 'shadow' : 'live';
  const variant = d.variant!;
  const doc: LiftDoc = {
    workspaceId: ws,
    customerId: e.metadata.customerId,
    runId: d.runId,
    triggerId: d.triggerId,
    version: d.version,
    mode,
    variant,
    assigned: `${liftGroup(d.triggerId, d.version, mode, variant)}${SEP}${e.metadata.recordedAt.slice(0, 10)}`,
    converted: '',
  };
  batch.update<LiftDoc>(
    TRIGGER_LIFT,
    runDocId(ws, d.runId, mode === 'shadow'),
    e.position,
    () => doc,
    () => doc,
  );
  const goals = batch.get<GoalsDoc>(TRIGGER_GOALS, docId(ws, d.triggerId, d.version))?.doc.events ?? [];
  if (goals.length === 0) return;
  const deadline = Date.parse(run.matchedAt ?? e.metadata.recordedAt) + LIFT_WINDOW_MS;
  batch.update<HoldoutsDoc>(
    TRIGGER_HOLDOUTS,
    docId(ws, e.metadata.customerId),
    e.position,
    () => ({ workspaceId: ws, customerId: e.metadata.customerId, pending: [] }),
    (h) => ({ ...h, lift: [...(h.lift ?? []).filter((p) => p.doc.runId !== d.runId || p.doc.mode !== mode), { doc, goals, deadline }] }),
  );
}

/** Updates a run document, only if the run is known (its TriggerMatched was projected). */
function updateRun(batch: DocBatch, id: string, pos: bigint, change: (r: RunDoc) => RunDoc): void {
  const current = batch.get<RunDoc>(TRIGGER_RUNS, id);
  if (current) batch.update<RunDoc>(TRIGGER_RUNS, id, pos, () => current.doc, change);
}

/**
 * A customer's event: a goal event of a held-out customer converts those holdout runs (their documents are rewritten
 * from the snapshot); a goal event within the window converts the runs waiting for it for lift, and waits past their
 * window are dropped. One update of the customer's document per event.
 */
function convertHoldouts(batch: DocBatch, e: RecordedEvent, name: string): void {
  const id = docId(e.metadata.workspaceId, e.metadata.customerId);
  const holdouts = batch.get<HoldoutsDoc>(TRIGGER_HOLDOUTS, id);
  if (!holdouts || holdouts.pos >= e.position) return;
  const converted = holdouts.doc.pending.filter((p) => p.goals.includes(name));
  const at = Date.parse(e.metadata.recordedAt);
  const lift = holdouts.doc.lift ?? [];
  const liftConverted = lift.filter((p) => p.goals.includes(name) && at <= p.deadline);
  const liftKept = lift.filter((p) => !liftConverted.includes(p) && at <= p.deadline);
  if (converted.length === 0 && liftKept.length === lift.length) return;
  batch.update<HoldoutsDoc>(
    TRIGGER_HOLDOUTS,
    id,
    e.position,
    () => holdouts.doc,
    (h) => ({ ...h, pending: h.pending.filter((p) => !p.goals.includes(name)), lift: liftKept }),
  );
  const day = e.metadata.recordedAt.slice(0, 10);
  for (const { doc } of liftConverted)
    batch.update<LiftDoc>(
      TRIGGER_LIFT,
      runDocId(doc.workspaceId, doc.runId, doc.mode === 'shadow'),
      e.position,
      () => doc,
      (l) => ({ ...l, converted: `${liftGroup(l.triggerId, l.version, l.mode, l.variant)}${SEP}${day}` }),
    );
  for (const { run } of converted)
    batch.update<RunDoc>(
      TRIGGER_RUNS,
      docId(run.workspaceId, run.runId),
      e.position,
      () => run,
      (r) => ({ ...r, holdoutConverted: 1 }),
    );
}

function applyMessage(batch: DocBatch, e: RecordedEvent): void {
  const d = e.data as Record<string, unknown>;
  const ws = e.metadata.workspaceId;
  const initial = (): MessageDoc => ({
    workspaceId: ws,
    customerId: e.metadata.customerId,
    messageId: String(d.messageId),
    channel: String(d.channel ?? ''),
    triggerId: '',
    version: 0,
    step: '',
    runId: '',
    key: '',
    status: 'scheduled',
    scheduled: 0,
    sent: 0,
    delivered: 0,
    failed: 0,
    opened: 0,
    clicked: 0,
    attempts: 0,
    suppressedReason: '',
    suppressedKey: '',
  });
  const origin = (m: MessageDoc, o: { triggerId?: string; triggerVersion?: number; step?: string; runId?: string }): MessageDoc =>
    o.triggerId && o.triggerVersion !== undefined && o.step !== undefined
      ? {
          ...m,
          triggerId: o.triggerId,
          version: o.triggerVersion,
          step: o.step,
          runId: o.runId ?? '',
          key: stepKey(o.triggerId, o.triggerVersion, o.step),
        }
      : m;
  batch.update<MessageDoc>(MESSAGES, messageDocId(ws, String(d.messageId)), e.position, initial, (m) => {
    switch (e.type) {
      case 'MessageScheduled': {
        const s = d as EventDataByType['MessageScheduled'];
        // a test send is kept (explain finds it) but counted nowhere
        if (s.test === true) return { ...m, scheduled: 1, test: 1 };
        const o = origin(m, s);
        return { ...o, scheduled: 1, channelKey: o.triggerId ? `${versionKey(o.triggerId, o.version)}${SEP}${o.channel}` : '' };
      }
      case 'MessageSuppressed': {
        const s = d as EventDataByType['MessageSuppressed'];
        if (m.test) return { ...m, status: 'suppressed', suppressedReason: s.reason };
        const o = origin(m, s);
        return { ...o, status: 'suppressed', suppressedReason: s.reason, suppressedKey: o.key ? `${o.key}${SEP}${s.reason}` : '' };
      }
      case 'MessageSent':
        return { ...m, status: m.status === 'scheduled' ? 'sent' : m.status, sent: 1, attempts: Math.max(m.attempts, Number(d.attempt)) };
      case 'MessageDelivered':
        return { ...m, status: 'delivered', delivered: 1 };
      case 'MessageFailed':
        return { ...m, status: 'failed', failed: 1, attempts: Math.max(m.attempts, Number(d.attempts)) };
      case 'MessageOpened':
        return { ...m, opened: 1 };
      default:
        return { ...m, clicked: 1 };
    }
  });
}
