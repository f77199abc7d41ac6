import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import {
  MESSAGE_STATUS,
  TRIGGER_SOURCE,
  compileTrigger,
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
  MESSAGES,
  READ_MODEL_STORE,
  TRIGGER_RUNS,
  TRIGGER_STEPS,
  messageDocId,
  splitKey,
  type FieldValue,
  type MessageDoc,
  type ReadModelStore,
  type StepDoc,
} from '@journey/read-models';

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
      own.find((e) => e.type === 'MessageSuppressed' && e.metadata.source === TRIGGER_SOURCE) ??
      own[0];
    if (!decision)
      throw new NotFoundException(`message "${messageId}" has no events in customer "${message.customerId}"'s stream (forgotten?)`);
    const data = decision.data as EventDataByType['MessageScheduled'] & Partial<EventDataByType['MessageSuppressed']>;
    const suppressedByTrigger = decision.type === 'MessageSuppressed';

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

  async analytics(workspaceId: string, triggerId?: string): Promise<TriggerVersionStats[]> {
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
        };
        versions.set(key, v);
      }
      return v;
    };
    for (const key of runs.keys()) {
      const [id, version] = splitKey(key);
      versionOf(id, Number(version));
    }
    const suppressedByStep = new Map<string, Record<string, number>>();
    for (const [key, n] of suppressed) {
      const [id, version, step, reason] = splitKey(key);
      const k = `${id}\u001f${version}\u001f${step}`;
      suppressedByStep.set(k, { ...suppressedByStep.get(k), [reason]: n });
    }
    for (const { doc } of steps) {
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
