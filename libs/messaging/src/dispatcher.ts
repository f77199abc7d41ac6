import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import {
  decideDelivery,
  deliveryDueAt,
  foldCustomer,
  evolveDelivery,
  initialDeliveryState,
  nextAttemptAt,
  retryDelayMs,
  templateEventProperties,
  type AttemptResult,
  type DeliveryEvent,
  type RecordedEvent,
  type RetryPolicy,
} from '@journey/domain';
import {
  BackgroundCheckpoint,
  Processor,
  ProcessorHandler,
  type CheckpointStore,
  type EventStore,
  type FailureSettings,
} from '@journey/event-store';
import { ChannelNotConfigured, DeliveryError, type Channel, type HttpRequestSpec, type RenderedMessage } from './channel';
import { TemplateError, TemplateRenderer, type MessageTemplate } from './templates';

export type DeliveryMetric = 'sent' | 'delivered' | 'failed' | 'suppressed' | 'retried';

export interface DispatcherOptions {
  store: EventStore;
  checkpoints: CheckpointStore;
  channels: Channel[];
  templates?: TemplateRenderer;
  retry?: Partial<RetryPolicy>;
  /** Channel calls in flight at once. */
  concurrency?: number;
  now?: () => Date;
  /** Checkpoint name. */
  name?: string;
  onOutcome?: (channel: string, outcome: DeliveryMetric) => void;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Failures of the store or of a message's preparation: backoff, attempts before quarantine (see FailurePolicy). */
  failures?: FailureSettings;
}

/** Retries for 24 h, waiting 1 s, 2 s, 4 s, ... up to 1 h between attempts. */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: Infinity, baseDelayMs: 1000, maxDelayMs: 3_600_000, budgetMs: 24 * 3_600_000 };

const FILTER = { eventTypes: ['MessageScheduled', 'MessageDelivered', 'MessageFailed', 'MessageSuppressed', 'MessageResendRequested'] };
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Checkpoint writes are coalesced to at most one per this interval (and one at stop): a restart re-reads a little more. */
const CHECKPOINT_EVERY_MS = 100;

interface Pending {
  messageId: string;
  streamId: string;
  workspaceId: string;
  customerId: string;
  /** Global position of its MessageScheduled: the checkpoint stays below the oldest pending message. */
  position: bigint;
  dueAt?: Date;
  timer?: NodeJS.Timeout;
  task?: Promise<void>;
  /**
   * What brought it: its MessageScheduled or a MessageResendRequested (what a dead letter holds), and the failed
   * attempts at it not due to an outage.
   */
  scheduled: RecordedEvent;
  failures: number;
}

/**
 * Delivers scheduled messages, a handler on the Processor (checkpoint `dispatcher`) of MessageScheduled and outcome
 * events: waits for `notBefore`, renders the template for the customer, and drives each message through `decideDelivery`:
 * MessageSent is appended BEFORE the channel is called, the outcome after. Retryable errors back off exponentially
 * (capped) until the retry budget or `maxAttempts` is spent. A MessageResendRequested (an admin re-sending a failed
 * message) brings the message back: a new round of attempts under the same messageId.
 *
 * Durability: the checkpoint is the position just before the oldest message without an outcome (the Processor's
 * `holds`, saved at most every 100 ms and at stop), so a restart re-reads
 * every message still pending (waiting for `notBefore`, backing off, or cut off mid-send) and rebuilds the pending set.
 * Before each attempt the customer's stream is read again, so a message that has an outcome is never sent again; one
 * whose MessageSent has no outcome (stopped mid-send) is sent again with the same idempotency key (its messageId):
 * at least once to the channel, dedupable by the receiver. A message backing off when the dispatcher stopped is tried
 * again when its backoff ends (the time of its last MessageSent is in the log). Run one dispatcher per event store.
 *
 * Failures that are not the channel's follow the shared FailurePolicy: an outage of the store is retried with backoff
 * until it heals (the subscription too, always resubscribed); a message whose preparation keeps failing (its template,
 * its customer's events) is quarantined as a dead letter after a few attempts, and the others go on. `stop()` stops
 * taking work and aborts the channel calls in flight (their messages are sent again after a restart).
 */
export class Dispatcher extends ProcessorHandler {
  readonly processor: Processor;
  private readonly store: EventStore;
  private readonly channels: Map<string, Channel>;
  private readonly templates: TemplateRenderer;
  private readonly retry: RetryPolicy;
  private readonly now: () => Date;
  private readonly slots: Slots;
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly options: DispatcherOptions) {
    super();
    this.store = options.store;
    this.channels = new Map(options.channels.map((c) => [c.name, c]));
    this.templates = options.templates ?? new TemplateRenderer();
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.now = options.now ?? (() => new Date());
    this.slots = new Slots(options.concurrency ?? 16);
    const name = options.name ?? 'dispatcher';
    this.processor = new Processor({
      name,
      label: 'dispatcher',
      store: options.store,
      filter: FILTER,
      filterInStore: true,
      checkpoint: new BackgroundCheckpoint(
        options.checkpoints,
        name,
        (error) => options.logger?.error({ err: error }, 'dispatcher: checkpoint not saved, will retry'),
        CHECKPOINT_EVERY_MS,
      ),
      holds: () =>
        [...this.pending.values()].reduce<bigint | undefined>(
          (low, p) => (low === undefined || p.position < low ? p.position : low),
          undefined,
        ),
      // A dead letter's MessageScheduled is delivered again in the background (a delivery may wait out the channel's retries).
      retryInBackground: true,
      handle: (events, { retry }) => (retry ? this.deliver(this.pendingOf(events[0])) : this.onEvents(events)),
      onStop: () => {
        for (const p of this.pending.values()) clearTimeout(p.timer);
        return Promise.allSettled([...this.pending.values()].flatMap((p) => p.task ?? []));
      },
      failures: {
        ...options.failures,
        now: this.now,
        onFailure: (error, retryInMs, what) => options.logger?.error({ err: error, retryInMs }, `dispatcher: ${what} failed, will retry`),
      },
    });
  }

  /** A message to deliver from its MessageScheduled (waiting for notBefore) or its MessageResendRequested (at once). */
  private pendingOf(event: RecordedEvent): Pending {
    const { workspaceId, customerId } = event.metadata;
    const messageId = String((event.data as { messageId?: string }).messageId);
    const dueAt = event.type === 'MessageScheduled' ? deliveryDueAt(evolveDelivery(initialDeliveryState(), event)) : undefined;
    return { messageId, streamId: event.streamId, workspaceId, customerId, position: event.position, dueAt, scheduled: event, failures: 0 };
  }

  /** Resolves once every message event in the log has been read and no message is being delivered (those waiting for `notBefore` aside). */
  async whenIdle(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const busy =
        [...this.pending.values()].some((p) => p.task !== undefined) ||
        (await this.store.readAll({ after: this.processor.position, maxCount: 1, filter: FILTER })).length > 0;
      if (!busy) return;
      if (Date.now() > deadline) throw new Error(`dispatcher not idle after ${timeoutMs} ms`);
      await sleep(10);
    }
  }

  /** Messages scheduled and not yet resolved (waiting, backing off or being sent). */
  get pendingCount(): number {
    return this.pending.size;
  }

  private onEvents(events: RecordedEvent[]): void {
    for (const event of events) {
      const messageId = (event.data as { messageId?: string }).messageId;
      if (!messageId) continue;
      const known = this.pending.get(messageId);
      if (event.type === 'MessageScheduled' || event.type === 'MessageResendRequested') {
        if (!known) this.track(event);
        // A re-send of a failure whose delivery is still winding down here: tracked again once it is done.
        else if (event.type === 'MessageResendRequested') void known.task?.then(() => this.pending.has(messageId) || this.track(event));
      } else if (known && !known.task) {
        // Resolved before its turn (e.g. a reactor suppressed a reminder before its notBefore).
        clearTimeout(known.timer);
        this.pending.delete(messageId);
      }
    }
  }

  private track(event: RecordedEvent): void {
    if (this.processor.signal.aborted) return;
    const p = this.pendingOf(event);
    this.pending.set(p.messageId, p);
    this.plan(p);
  }

  private plan(p: Pending): void {
    if (this.processor.signal.aborted) return;
    const wait = p.dueAt ? p.dueAt.getTime() - this.now().getTime() : 0;
    if (wait > 0) {
      p.timer = setTimeout(() => this.plan(p), Math.min(wait, MAX_TIMER_MS)).unref();
      return;
    }
    p.timer = undefined;
    p.task = this.deliver(p).then(
      () => {
        if (this.processor.signal.aborted) return; // cut off: stays below the checkpoint, resumed after a restart
        this.processor.failures.succeeded();
        this.pending.delete(p.messageId);
        this.processor.saveCheckpoint();
      },
      (error) => this.deliveryFailed(p, error),
    );
  }

  /**
   * Not the channel (its failures are the delivery's retries): the store, or the message's preparation failed. An
   * outage is waited out with backoff; a message that keeps failing otherwise is quarantined and leaves the pending set.
   */
  private async deliveryFailed(p: Pending, error: unknown): Promise<void> {
    p.task = undefined;
    if (this.processor.signal.aborted) return;
    try {
      const { failures } = this.processor;
      const verdict = await failures.judge(error, p.failures + 1, `delivering message ${p.messageId}`);
      if (verdict.quarantine) {
        await failures.quarantine(p.scheduled, failures.lastError!, p.failures + 1);
        this.pending.delete(p.messageId);
        this.processor.saveCheckpoint();
        return;
      }
      if (!verdict.transient) p.failures += 1;
      p.dueAt = new Date(this.now().getTime() + verdict.retryInMs);
      this.plan(p);
    } catch (e) {
      if (!this.processor.signal.aborted)
        this.options.logger?.error({ err: e, messageId: p.messageId }, 'dispatcher: could not handle a failed delivery');
    }
  }

  private async deliver(p: Pending): Promise<void> {
    const signal = this.processor.signal;
    while (!signal.aborted) {
      const release = await this.slots.acquire();
      let retryIn: number | undefined;
      try {
        retryIn = signal.aborted ? undefined : await this.attempt(p);
      } finally {
        release();
      }
      if (retryIn === undefined) return;
      await sleep(Math.min(retryIn, MAX_TIMER_MS), undefined, { signal }).catch(() => undefined);
    }
  }

  /** One attempt. Returns the wait before the next one, or undefined when the message is done (or we are stopping). */
  private async attempt(p: Pending): Promise<number | undefined> {
    const events = await this.store.readStream(p.streamId);
    const state = events
      .filter((e) => (e.data as { messageId?: string }).messageId === p.messageId)
      .reduce(evolveDelivery, initialDeliveryState());
    if (state.outcome) return undefined;
    // Backing off from an attempt made before a restart: wait for the rest of it.
    const due = nextAttemptAt(state, this.retry);
    if (due && due.getTime() > this.now().getTime()) return due.getTime() - this.now().getTime();
    const { traits, forgotten } = foldCustomer(p.workspaceId, p.customerId, events);
    const scheduled = state.scheduled;
    if (!scheduled) throw new Error(`message ${p.messageId}: no MessageScheduled in ${p.streamId}`);
    const { channel: channelName, template, to, causingEventId, conversationId, request } = scheduled.data;
    const channel = this.channels.get(channelName);
    let content: (MessageTemplate & { request?: HttpRequestSpec }) | undefined;
    let suppress: { reason: string; detail?: string } | undefined;
    if (!channel) {
      suppress = {
        reason: 'unknown-channel',
        detail: `no channel "${channelName}" is configured (configured: ${[...this.channels.keys()].join(', ')})`,
      };
    } else if (forgotten) {
      suppress = { reason: 'customer-forgotten' };
    } else {
      try {
        const cause = causingEventId ? events.find((e) => e.id === causingEventId) : undefined;
        // the scope of every template, a reply step's body included (rendered by the run decider: RunContext.renderReply)
        const scope = { customer: { id: scheduled.customerId, traits }, event: templateEventProperties(cause) };
        // an agent's words (literal) are sent as written: a customer may write `{{` too
        content = scheduled.data.literal
          ? { ...(template.subject !== undefined && { subject: template.subject }), body: template.body }
          : channel.render
            ? await channel.render(template, scope, {
                workspaceId: scheduled.workspaceId,
                customerId: scheduled.customerId,
                ...(conversationId !== undefined && { conversationId }),
                ...(request !== undefined && { request }),
                templates: this.templates,
              })
            : await this.templates.render(template, scope);
      } catch (error) {
        if (error instanceof ChannelNotConfigured) suppress = { reason: 'unknown-channel', detail: error.message };
        else if (error instanceof TemplateError) suppress = { reason: 'template-error', detail: error.message };
        else throw error;
      }
    }
    const now = this.now();
    const [started] = decideDelivery({ type: 'StartAttempt', now, retry: this.retry, suppress }, state);
    if (!started) return undefined;
    await this.append(p.streamId, started);
    if (started.type !== 'MessageSent' || !channel || !content) return undefined;

    const attempt = started.data.attempt;
    const message: RenderedMessage = {
      messageId: p.messageId,
      channel: channelName,
      workspaceId: scheduled.workspaceId,
      customerId: scheduled.customerId,
      to,
      traits,
      ...(conversationId !== undefined && { conversationId }),
      ...content,
    };
    let result: AttemptResult;
    try {
      const { detail } = await channel.send(message, { idempotencyKey: p.messageId, attempt, signal: this.processor.signal });
      // only the in-app inbox keeps its content; a rendered request (which may hold secrets) is never stored
      const { request: _sent, ...kept } = content;
      result = { ok: true, detail, content: channel.deliveredInLog ? kept : undefined };
    } catch (error) {
      if (this.processor.signal.aborted) return undefined; // outcome unknown: sent again after a restart
      result = { ok: false, retryable: !(error instanceof DeliveryError) || error.retryable, error: (error as Error).message };
    }
    const decided = decideDelivery(
      { type: 'CompleteAttempt', now: this.now(), attempt, retry: this.retry, result },
      evolveDelivery(state, started),
    );
    if (decided.length > 0) {
      await this.append(p.streamId, ...decided);
      return undefined;
    }
    this.options.onOutcome?.(channelName, 'retried');
    this.options.logger?.warn(
      { messageId: p.messageId, channel: channelName, attempt, error: !result.ok && result.error },
      'dispatcher: attempt failed, will retry',
    );
    return retryDelayMs(this.retry, attempt - state.before);
  }

  private async append(streamId: string, ...events: DeliveryEvent[]): Promise<void> {
    await this.store.appendToStream(streamId, events);
    for (const e of events) {
      const outcome = (
        { MessageSent: 'sent', MessageDelivered: 'delivered', MessageFailed: 'failed', MessageSuppressed: 'suppressed' } as const
      )[e.type];
      this.options.onOutcome?.(e.data.channel, outcome);
    }
  }
}

/** A counting semaphore: at most `size` holders at once, waiters served in order. */
class Slots {
  private readonly waiters: Array<() => void> = [];

  constructor(private free: number) {}

  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free -= 1;
    else await new Promise<void>((resolve) => this.waiters.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next();
      else this.free += 1;
    };
  }
}
