import { randomUUID } from 'node:crypto';
import { BadRequestException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import {
  compileTrigger,
  customerAsOf,
  customerStreamId,
  deterministicId,
  envelope,
  evolveSettings,
  evolveTrigger,
  initialSettings,
  initialTriggerState,
  planPreview,
  recordOf,
  resolveStep,
  stepsOf,
  TEST_MESSAGE_PREFIX,
  triggerStreamId,
  whyNot,
  workspaceStreamId,
  type CompiledTrigger,
  type CustomerAsOf,
  type GuardVerdict,
  type JourneyEvent,
  type PreviewPlan,
  type QuietHours,
  type RecordedEvent,
  type TriggerState,
  type WhyNotAnswer,
} from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { TemplateError, TemplateRenderer, type TemplateScope } from '@journey/messaging';
import { StreamCache } from './stream-cache';

/** The trigger's stream folded: its versions with when each was defined, and when it was enabled or disabled. */
export interface TriggerHistory {
  state: TriggerState;
  definedAt: Map<number, number>;
  /** Enable/disable events in order: (time, enabled after it). */
  switches: Array<{ at: number; enabled: boolean }>;
}

export interface PreviewRequest {
  customerId: string;
  step: string | number;
  version?: number;
  asOf?: Date;
}

export interface PreviewAnswer {
  triggerId: string;
  version: number;
  customerId: string;
  asOf: string;
  step: { address: string; path: string; kind: string };
  channel?: string;
  to?: string;
  subject?: string;
  body?: string;
  request?: { url: string; method: string; headers: Record<string, string> };
  title?: string;
  /** Every guard checked, with its verdict (sends only). */
  guards: GuardVerdict[];
  /** What the guards would do: `send`, `suppress` (with the reason) or `defer` (to deferredTo). */
  verdict: 'send' | 'suppress' | 'defer' | 'none';
  suppressed?: { reason: string; detail: string };
  deferredTo?: string;
  /** Template errors, each naming the part (`subject: undefined variable: customer.traits.name`). */
  templateErrors: string[];
  /** The event `{{ event.* }}` was rendered from. */
  cause?: { id: string; name: string; at: string };
  timeZone: string;
  notes: string[];
}

export interface TestSendRequest extends PreviewRequest {
  to: string;
}

export interface TestSendAnswer {
  messageId: string;
  /** The stream it was scheduled on: the customer's (email, log), the test customer's (inbox). */
  customerId: string;
  channel: string;
  to: string;
  test: true;
  preview: PreviewAnswer;
}

/** Channels a test send may use, and what `to` must be for each. */
const TEST_CHANNELS = ['email', 'inbox', 'log'] as const;
const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;

/**
 * Previews, test sends and why-not: reads the trigger's stream and the customer's, folds the customer up to `asOf`
 * (libs/domain triggers/preview.ts), renders with the dispatcher's renderer and scope (libs/messaging templates.ts),
 * and explains with libs/domain triggers/why-not.ts.
 */
@Injectable()
export class PreviewsService {
  private readonly templates = new TemplateRenderer();
  private readonly streams: StreamCache;

  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {
    this.streams = new StreamCache(store);
  }

  async trigger(workspaceId: string, triggerId: string): Promise<TriggerHistory> {
    const events = await this.store.readStream(triggerStreamId(workspaceId, triggerId));
    let state = initialTriggerState(triggerId);
    const definedAt = new Map<number, number>();
    const switches: TriggerHistory['switches'] = [];
    for (const e of events) {
      state = evolveTrigger(state, e);
      const at = Date.parse(e.metadata.occurredAt);
      if (e.type === 'TriggerDefined') definedAt.set(Number(e.data.version), at);
      if (e.type === 'TriggerEnabled' || e.type === 'TriggerDisabled') switches.push({ at, enabled: e.type === 'TriggerEnabled' });
    }
    if (state.version === 0) throw new NotFoundException(`trigger "${triggerId}" not found`);
    return { state, definedAt, switches };
  }

  /** The version asked for (400 naming the versions there are), or the latest. */
  compiled(history: TriggerHistory, version: number | undefined): CompiledTrigger {
    const { state } = history;
    const v = version ?? state.version;
    const definition = state.definitions[v];
    if (!definition) throw new BadRequestException(`version: trigger "${state.triggerId}" has versions 1 to ${state.version}, not ${v}`);
    return compileTrigger(definition, v);
  }

  async customerEvents(workspaceId: string, customerId: string): Promise<RecordedEvent[]> {
    const events = await this.streams.read(customerStreamId(workspaceId, customerId));
    if (events.length === 0) throw new NotFoundException(`customer "${customerId}" not found`);
    return events;
  }

  async preview(workspaceId: string, triggerId: string, request: PreviewRequest): Promise<PreviewAnswer> {
    const history = await this.trigger(workspaceId, triggerId);
    const trigger = this.compiled(history, request.version);
    const resolved = resolveStep(trigger, request.step);
    if (!resolved) {
      const steps = stepsOf(trigger.definition.steps).map((s) => `${s.path} (${s.address})`);
      throw new BadRequestException(
        `step: trigger "${triggerId}" version ${trigger.version} has no step ${JSON.stringify(request.step)}; its steps: ${steps.join(', ') || 'none'}`,
      );
    }
    const events = await this.customerEvents(workspaceId, request.customerId);
    const asOf = (request.asOf ?? new Date()).getTime();
    const customer = this.customerAt(events, asOf);
    const plan = planPreview(trigger, resolved, request.customerId, customer, asOf, await this.workspaceQuietHours(workspaceId, asOf));
    return this.render(trigger, request.customerId, asOf, plan);
  }

  /** Folds of a stream at its head (an `asOf` at or after its latest event), kept per stream read: reused until it grows. */
  private readonly heads = new WeakMap<readonly RecordedEvent[], { latest: number; state: CustomerAsOf }>();

  /** The customer as of `asOf`: the head's fold (read only) when nothing happened after `asOf`, else folded for it. */
  private customerAt(events: readonly RecordedEvent[], asOf: number): CustomerAsOf {
    let head = this.heads.get(events);
    if (!head) {
      const latest = events.reduce((max, e) => Math.max(max, recordOf(e).at), -Infinity);
      this.heads.set(events, (head = { latest, state: customerAsOf(events, Infinity) }));
    }
    return asOf >= head.latest ? head.state : customerAsOf(events, asOf);
  }

  private async render(trigger: CompiledTrigger, customerId: string, asOf: number, plan: PreviewPlan): Promise<PreviewAnswer> {
    const templateErrors: string[] = [];
    const part = async (source: string, name: string, scope: TemplateScope): Promise<string | undefined> => {
      try {
        return (await this.templates.render({ body: source }, scope)).body;
      } catch (error) {
        if (!(error instanceof TemplateError)) throw error;
        templateErrors.push(error.message.replace(/^body:/, `${name}:`));
        return undefined;
      }
    };
    const answer: PreviewAnswer = {
      triggerId: trigger.id,
      version: trigger.version,
      customerId,
      asOf: new Date(asOf).toISOString(),
      step: { address: plan.address, path: plan.path, kind: plan.kind },
      ...(plan.channel !== undefined ? { channel: plan.channel } : {}),
      ...(plan.to !== undefined ? { to: plan.to } : {}),
      guards: plan.guards?.guards ?? [],
      verdict: plan.guards ? (plan.guards.suppressed ? 'suppress' : plan.guards.notBefore ? 'defer' : 'send') : 'none',
      ...(plan.guards?.suppressed ? { suppressed: plan.guards.suppressed } : {}),
      ...(plan.guards?.notBefore ? { deferredTo: new Date(plan.guards.notBefore).toISOString() } : {}),
      templateErrors,
      ...(plan.cause ? { cause: { id: plan.cause.id, name: plan.cause.name, at: plan.cause.at } } : {}),
      timeZone: plan.timeZone,
      notes: plan.notes,
    };
    if (plan.title !== undefined) answer.title = plan.title;
    if (plan.template) {
      // a webhook's secrets are shown as placeholders: their values never leave the send
      const scope: TemplateScope = plan.request ? ({ ...plan.scope, secrets: secretPlaceholders(plan) } as TemplateScope) : plan.scope;
      if (plan.template.subject !== undefined) answer.subject = await part(plan.template.subject, 'subject', scope);
      answer.body = plan.template.body === '' ? '' : await part(plan.template.body, 'body', scope);
      if (plan.request) {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(plan.request.headers))
          headers[name] = (await part(value, `headers.${name}`, scope)) ?? value;
        answer.request = {
          url: ((await part(plan.request.url, 'url', scope)) ?? plan.request.url).trim(),
          method: plan.request.method,
          headers,
        };
      }
    }
    return answer;
  }

  /**
   * Renders the step as the preview does and schedules it as a test send: a MessageScheduled with `test: true`, the
   * rendered text as `literal` (what was previewed is what is sent), to the test address. Guards are reported, not
   * applied (no suppression, no quiet-hours deferral); test sends never count in analytics nor against caps.
   */
  async testSend(workspaceId: string, triggerId: string, request: TestSendRequest, by: string): Promise<TestSendAnswer> {
    const preview = await this.preview(workspaceId, triggerId, request);
    const { kind } = preview.step;
    if (kind !== 'send' && kind !== 'reply')
      throw new BadRequestException(
        `step: a test send renders a send or reply step; ${preview.step.path} is a ${kind} step (preview it instead)`,
      );
    if (preview.templateErrors.length > 0)
      throw new BadRequestException({
        statusCode: 400,
        error: 'Bad Request',
        message: `the step does not render for customer "${request.customerId}": ${preview.templateErrors.join('; ')}`,
        errors: preview.templateErrors,
      });
    const to = request.to.trim();
    const channel = kind === 'reply' ? (EMAIL.test(to) ? 'email' : 'inbox') : preview.channel!;
    if (!(TEST_CHANNELS as readonly string[]).includes(channel))
      throw new BadRequestException(
        `step: a test send goes to an email address, a test customer's in-app inbox or the log; channel ${channel} would post to the workspace's own endpoint`,
      );
    if (channel === 'email' && !EMAIL.test(to))
      throw new BadRequestException(`to: an email address for an email step, got ${JSON.stringify(to)}`);
    if (channel === 'inbox' && (to === '' || to.length > 256 || [...to].some((c) => c.charCodeAt(0) < 32) || to.includes('@')))
      throw new BadRequestException(`to: the id of a test customer whose in-app inbox receives it, got ${JSON.stringify(to)}`);
    if (channel === 'inbox' && to === request.customerId)
      throw new BadRequestException(`to: a test customer, not the customer previewed ("${to}"): their inbox is the real one`);
    if (preview.notes.some((n) => n.startsWith('the customer is forgotten')))
      throw new BadRequestException(`customerId: customer "${request.customerId}" is forgotten: nothing is sent for them`);
    // an inbox test send goes on the test customer's stream (an inbox is folded from its customer's stream);
    // email and log ones stay on the customer's
    const recipient = channel === 'inbox' ? to : request.customerId;
    const messageId = `${TEST_MESSAGE_PREFIX}${randomUUID()}`;
    const now = new Date().toISOString();
    const guards: GuardVerdict[] = [
      {
        guard: 'test-send',
        verdict: 'passed',
        detail: `a test send for customer ${request.customerId} by ${by}: the guards below are reported, not applied`,
      },
      ...preview.guards,
    ];
    const event: JourneyEvent = envelope({
      id: deterministicId('test-send', workspaceId, messageId),
      type: 'MessageScheduled',
      data: {
        messageId,
        channel,
        triggerId,
        triggerVersion: preview.version,
        template: { ...(preview.subject !== undefined ? { subject: preview.subject } : {}), body: preview.body ?? '' },
        literal: true,
        to,
        ...(preview.cause ? { causingEventId: preview.cause.id } : {}),
        guards,
        test: true,
      },
      workspaceId,
      customerId: recipient,
      occurredAt: now,
      recordedAt: now,
      source: by,
    });
    await this.store.appendToStream(customerStreamId(workspaceId, recipient), [event]);
    return { messageId, customerId: recipient, channel, to, test: true, preview };
  }

  async whyNot(
    workspaceId: string,
    customerId: string,
    triggerId: string,
    options: { version?: number; asOf?: Date },
  ): Promise<WhyNotAnswer> {
    const [history, events] = await Promise.all([this.trigger(workspaceId, triggerId), this.customerEvents(workspaceId, customerId)]);
    const asOf = (options.asOf ?? new Date()).getTime();
    // default: the version that was the latest at asOf (else the first)
    let version = options.version;
    if (version === undefined) {
      version = 1;
      for (const [v, at] of history.definedAt) if (at <= asOf && v > version) version = v;
    }
    const trigger = this.compiled(history, version);
    const enabledAt = (at: number) => {
      let enabled = false;
      for (const s of history.switches) if (s.at <= at) enabled = s.enabled;
      return enabled;
    };
    // the priorities of the other triggers that sent on the customer's events (for "outranked by")
    const others = new Set<string>();
    for (const e of events)
      if (e.type === 'MessageScheduled' && typeof e.data.triggerId === 'string' && e.data.triggerId !== triggerId)
        others.add(e.data.triggerId);
    const priorities = new Map<string, number>();
    const quiet = await this.workspaceQuietHours(workspaceId, asOf);
    await Promise.all(
      [...others].map(async (id) => {
        const state = (await this.store.readStream(triggerStreamId(workspaceId, id))).reduce(evolveTrigger, initialTriggerState(id));
        const latest = state.definitions[state.version];
        if (latest) priorities.set(id, latest.priority ?? 0);
      }),
    );
    return whyNot({
      workspaceId,
      customerId,
      trigger,
      definedAt: history.definedAt.get(version),
      enabledAt,
      events,
      asOf,
      priorities,
      ...(quiet ? { workspaceQuietHours: quiet } : {}),
    });
  }

  /**
   * The workspace's default quiet hours as its settings stood at `asOf` (ms): the settings events recorded by then, as
   * the trigger reactor applies them in log order.
   */
  async workspaceQuietHours(workspaceId: string, asOf: number): Promise<QuietHours | undefined> {
    let state = initialSettings();
    for (const e of await this.store.readStream(workspaceStreamId(workspaceId))) {
      if (Date.parse(e.metadata.recordedAt) > asOf) break;
      state = evolveSettings(state, e);
    }
    return state.settings.quietHours;
  }
}

/** `{{ secrets.NAME }}` of a webhook step's templates as `[secret NAME]`. */
function secretPlaceholders(plan: PreviewPlan): Record<string, string> {
  const sources = [plan.template?.body ?? '', plan.request?.url ?? '', ...Object.values(plan.request?.headers ?? {})].join('\n');
  const names = new Set([...sources.matchAll(/secrets\.([A-Za-z0-9_-]+)/g)].map((m) => m[1]));
  return Object.fromEntries([...names].map((n) => [n, `[secret ${n}]`]));
}
