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
}

export interface StepDoc {
  workspaceId: string;
  triggerId: string;
  version: number;
  step: string;
  kind: string;
  entered: number;
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
}

interface GoalsDoc {
  reasons: string[];
  events: string[];
}

interface HoldoutsDoc {
  workspaceId: string;
  customerId: string;
  pending: Array<{ run: RunDoc; goals: string[] }>;
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
      ],
    },
    { name: TRIGGER_STEPS, indexes: [['workspaceId']] },
    {
      name: TRIGGER_RUNS,
      indexes: [
        ['workspaceId', 'key'],
        ['workspaceId', 'stepKey'],
      ],
    },
    { name: TRIGGER_GOALS, indexes: [] },
    { name: TRIGGER_HOLDOUTS, indexes: [] },
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
        add(TRIGGER_RUNS, docId(ws, String(d.runId)));
      if (e.type === 'TriggerRunStepEntered') add(TRIGGER_STEPS, docId(ws, String(d.triggerId), Number(d.version), String(d.step)));
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
          const run: RunDoc = {
            workspaceId: ws,
            customerId,
            runId: d.runId,
            triggerId: d.triggerId,
            version: d.version,
            key: versionKey(d.triggerId, d.version),
            step: '',
            stepKey: '',
            variant: '',
            exitReason: '',
            converted: 0,
            holdout: 0,
            holdoutConverted: 0,
          };
          batch.update<RunDoc>(
            TRIGGER_RUNS,
            docId(ws, d.runId),
            pos,
            () => run,
            (r) => r,
          );
          break;
        }
        case 'TriggerRunStepEntered': {
          const d = e.data as EventDataByType['TriggerRunStepEntered'];
          batch.update<StepDoc>(
            TRIGGER_STEPS,
            docId(ws, d.triggerId, d.version, d.step),
            pos,
            () => ({ workspaceId: ws, triggerId: d.triggerId, version: d.version, step: d.step, kind: d.kind, entered: 0 }),
            (s) => ({ ...s, entered: s.entered + 1 }),
          );
          updateRun(batch, docId(ws, d.runId), pos, (r) => ({
            ...r,
            step: d.step,
            stepKey: stepKey(d.triggerId, d.version, d.step),
            ...(d.variant ? { variant: d.variant } : {}),
          }));
          break;
        }
        case 'TriggerRunExited': {
          const d = e.data as EventDataByType['TriggerRunExited'];
          const goal = batch.get<GoalsDoc>(TRIGGER_GOALS, docId(ws, d.triggerId, d.version))?.doc;
          const runId = docId(ws, d.runId);
          updateRun(batch, runId, pos, (r) => ({
            ...r,
            exitReason: d.reason,
            converted: goal?.reasons.includes(d.reason) ? 1 : 0,
            holdout: d.reason === 'holdout' ? 1 : 0,
          }));
          const run = batch.get<RunDoc>(TRIGGER_RUNS, runId)?.doc;
          if (run?.holdout && run.exitReason === d.reason && goal?.events.length) {
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
        default: {
          const activity = isCustomerEvent(e) ? activityRecord(e) : undefined;
          if (activity) convertHoldouts(batch, e, activity.name);
        }
      }
    }
    return batch.puts();
  },
};

/** Updates a run document, only if the run is known (its TriggerMatched was projected). */
function updateRun(batch: DocBatch, id: string, pos: bigint, change: (r: RunDoc) => RunDoc): void {
  const current = batch.get<RunDoc>(TRIGGER_RUNS, id);
  if (current) batch.update<RunDoc>(TRIGGER_RUNS, id, pos, () => current.doc, change);
}

/** A goal event of a held-out customer: those holdout runs converted (their documents are rewritten from the snapshot). */
function convertHoldouts(batch: DocBatch, e: RecordedEvent, name: string): void {
  const id = docId(e.metadata.workspaceId, e.metadata.customerId);
  const holdouts = batch.get<HoldoutsDoc>(TRIGGER_HOLDOUTS, id);
  const converted = holdouts?.doc.pending.filter((p) => p.goals.includes(name)) ?? [];
  if (!holdouts || converted.length === 0) return;
  batch.update<HoldoutsDoc>(
    TRIGGER_HOLDOUTS,
    id,
    e.position,
    () => holdouts.doc,
    (h) => ({ ...h, pending: h.pending.filter((p) => !p.goals.includes(name)) }),
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
      case 'MessageScheduled':
        return { ...origin(m, d as EventDataByType['MessageScheduled']), scheduled: 1 };
      case 'MessageSuppressed': {
        const s = d as EventDataByType['MessageSuppressed'];
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
