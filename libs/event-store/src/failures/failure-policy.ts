import {
  DEAD_LETTER_EVENT_TYPES,
  deadLetterResolved,
  deadLetterStreamId,
  eventQuarantined,
  type DeadLetterRetryRequestedData,
  type EventQuarantinedData,
  type RecordedEvent,
} from '@journey/domain';
import type { EventStore } from '../event-store.port';
import { asError, classifyFailure, failureReason } from './classify';

/** Capped exponential backoff: `minMs`, then doubling up to `maxMs`; `reset` after a success. */
export class Backoff {
  private failures = 0;

  constructor(
    readonly minMs: number,
    readonly maxMs: number,
  ) {}

  next(): number {
    return Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.failures++, 30));
  }

  reset(): void {
    this.failures = 0;
  }
}

/** Thrown out of a FailurePolicy's loops once its subscriber is stopping. */
export class SubscriberStopped extends Error {
  constructor(subscriber: string) {
    super(`${subscriber} is stopping`);
    this.name = 'SubscriberStopped';
  }
}

export interface FailureLogger {
  error(message: string): void;
}

/** What the engine tunes of every subscriber's policy (the runtimes take it as their `failures` option). */
export interface FailureSettings {
  /** Backoff of transient failures: from `minMs` (default 500) doubling up to `maxMs` (default 30 s), forever. */
  minMs?: number;
  maxMs?: number;
  /** Attempts at a poison event before it is quarantined (default 3). */
  poisonAttempts?: number;
  /** After each quarantine (metrics). */
  onQuarantined?: (subscriber: string, event: RecordedEvent, error: Error) => void;
}

export interface FailurePolicyOptions extends FailureSettings {
  /** The subscriber's name: what dead letters are recorded under and retry requests addressed to. */
  subscriber: string;
  /** Where dead letters are recorded (and quarantined events read back for a retry). */
  store: EventStore;
  /**
   * Asked before an event is quarantined: when it fails, the error is taken for an outage (transient) instead. Guards
   * against quarantining good events during an outage whose errors the classifier does not know.
   */
  probe?: () => Promise<unknown>;
  logger?: FailureLogger;
  /** Called on every failed attempt instead of logging it (the subscriber logs in its own words). */
  onFailure?: (error: Error, retryInMs: number, what: string) => void;
  now?: () => Date;
}

export type EventsHandler = (events: RecordedEvent[]) => Promise<unknown> | unknown;

/**
 * The failure policy of every subscriber: the Processor (processor/processor.ts) hands it each batch with its handler,
 * and handlers that schedule their own retries (the timers, the dispatcher's deliveries, the relay's publications) use
 * `judge` and `quarantine`:
 *
 * - success: `lastError` is cleared, the backoff reset. No extra work on this path.
 * - a transient failure (classifyFailure): `lastError` is set (so /health reports the subscriber failing), and the same
 *   batch is retried after a capped exponential backoff, forever, until it goes through or the subscriber stops.
 * - any other failure: the batch is retried one event at a time, so the events of the other customers in it are
 *   handled. An event that keeps failing (not transiently) `poisonAttempts` times is quarantined: an
 *   `EventQuarantined` in its workspace's dead-letter stream (see dead-letters.ts in the domain), and the subscriber
 *   moves on. Before quarantining, the `probe` (the subscriber's store) must answer; if it does not, the failure is
 *   an outage and is waited out instead. A transient failure never counts as an attempt.
 *
 * Retry requests (`DeadLetterRetryRequested` addressed to this subscriber) run the event again through the handler:
 * success records `DeadLetterResolved`, failure quarantines it again. Every record has a deterministic id, so a
 * subscriber that replays after a crash writes nothing twice.
 */
export class FailurePolicy {
  /** Set while the subscriber is failing; cleared by its next success. */
  lastError?: Error;
  readonly subscriber: string;
  private readonly backoff: Backoff;
  private stopped = false;
  private readonly sleeping = new Set<() => void>();

  constructor(private readonly options: FailurePolicyOptions) {
    this.subscriber = options.subscriber;
    this.backoff = new Backoff(options.minMs ?? 500, options.maxMs ?? 30_000);
  }

  get poisonAttempts(): number {
    return Math.max(1, this.options.poisonAttempts ?? 3);
  }

  /**
   * For a subscriber that schedules its own retries (the timers, on their clock): how to treat `error` after an
   * attempt at one event, the `attempts`-th that failed (transient ones aside). Records the failure (lastError, the
   * log) and answers `quarantine` once the event has failed `poisonAttempts` times not transiently, else how long to
   * wait before the next attempt.
   */
  async judge(error: unknown, attempts: number, what: string): Promise<{ transient: boolean; quarantine: boolean; retryInMs: number }> {
    this.lastError = asError(error);
    const transient = await this.isOutage(error);
    if (!transient && attempts >= this.poisonAttempts) return { transient, quarantine: true, retryInMs: 0 };
    const retryInMs = transient ? this.backoff.next() : this.poisonDelay(attempts);
    this.report(this.lastError, retryInMs, transient ? what : `${what} (attempt ${attempts} of ${this.poisonAttempts})`);
    return { transient, quarantine: false, retryInMs };
  }

  private poisonDelay(attempts: number): number {
    return Math.min(this.backoff.minMs * 2 ** Math.max(0, attempts - 1), this.backoff.maxMs);
  }

  /** Lets the loops run again (after `stop`). */
  start(): void {
    this.stopped = false;
  }

  /** Ends every wait at once: the loops throw SubscriberStopped. */
  stop(): void {
    this.stopped = true;
    for (const wake of this.sleeping) wake();
  }

  /** A success of the subscriber outside `run` (e.g. it resubscribed). */
  succeeded(): void {
    this.lastError = undefined;
    this.backoff.reset();
  }

  /**
   * A failure of the subscriber outside `run` (e.g. its subscription ended with an error): records it and waits out
   * the backoff. Resolves when the subscriber should try again; rejects with SubscriberStopped when it stops.
   */
  async failed(error: unknown, what: string): Promise<void> {
    this.lastError = asError(error);
    const delay = this.backoff.next();
    this.report(this.lastError, delay, what);
    await this.sleep(delay);
  }

  private report(error: Error, delay: number, what: string): void {
    if (this.options.onFailure) this.options.onFailure(error, delay, what);
    else
      this.options.logger?.error(
        `${this.subscriber}: ${what} failed (${classifyFailure(error)}), retrying in ${delay} ms: ${error.stack ?? error.message}`,
      );
  }

  /** Handles a batch by the policy; resolves once every event is handled or quarantined. */
  async run(events: RecordedEvent[], handle: EventsHandler): Promise<void> {
    for (;;) {
      this.checkRunning();
      try {
        await handle(events);
        this.succeeded();
        return;
      } catch (error) {
        this.checkRunning();
        if (events.length === 1) return void (await this.runOne(events[0], handle, error));
        const what = `a batch of ${events.length} events up to position ${events[events.length - 1].position}`;
        if (classifyFailure(error) === 'transient') {
          await this.failed(error, what);
          continue;
        }
        this.lastError = asError(error);
        this.report(this.lastError, 0, `${what} (retried event by event)`);
        for (const event of events) await this.runOne(event, handle);
        return;
      }
    }
  }

  /**
   * Handles one event by the policy: retried while it fails transiently, quarantined after `poisonAttempts` other
   * failures. `firstError`: a failure already seen (counts as the first attempt). `retryOf`: the retry request.
   */
  async runOne(event: RecordedEvent, handle: EventsHandler, firstError?: unknown, retryOf?: string): Promise<'handled' | 'quarantined'> {
    let attempts = 0;
    for (let error = firstError; ; error = undefined) {
      this.checkRunning();
      if (error === undefined) {
        try {
          await handle([event]);
          this.succeeded();
          return 'handled';
        } catch (e) {
          this.checkRunning();
          error = e;
        }
      }
      const verdict = await this.judge(error, attempts + 1, `event ${event.id} at position ${event.position}`);
      if (!verdict.transient) attempts += 1;
      if (verdict.quarantine) {
        await this.quarantine(event, this.lastError!, attempts, retryOf);
        return 'quarantined';
      }
      await this.sleep(verdict.retryInMs);
    }
  }

  /** Whether `event` asks this subscriber to retry one of its dead letters. */
  isRetryRequest(event: RecordedEvent): boolean {
    return event.type === 'DeadLetterRetryRequested' && (event.data as { subscriber?: unknown }).subscriber === this.subscriber;
  }

  /**
   * Runs a retry request: reads the quarantined event back, hands it to `handle` alone, and records the outcome
   * (resolved, or quarantined again). A request already answered (a replay) is skipped.
   */
  async retry(request: RecordedEvent, handle: EventsHandler): Promise<void> {
    const data = request.data as unknown as DeadLetterRetryRequestedData;
    const stream = deadLetterStreamId(request.metadata.workspaceId);
    const letters = await this.withRetries(() => this.options.store.readStream(stream), `reading ${stream}`);
    const answered = letters.some(
      (e) => e.metadata.causationId === request.id && (e.type === 'DeadLetterResolved' || e.type === 'EventQuarantined'),
    );
    if (answered) return;
    const position = BigInt(data.position);
    const [event] = await this.withRetries(
      () => this.options.store.readAll({ after: position - 1n, maxCount: 1 }),
      `reading the event at position ${position}`,
    );
    if (!event || event.id !== data.eventId) {
      this.options.logger?.error(
        `${this.subscriber}: dead letter ${data.deadLetterId}: no event ${data.eventId} at position ${position}; retry ${request.id} ignored`,
      );
      return;
    }
    const outcome = await this.runOne(event, handle, undefined, request.id);
    if (outcome === 'handled') {
      const resolved = deadLetterResolved(this.subscriber, event, request.id, this.now());
      await this.withRetries(() => this.options.store.appendToStream(stream, [resolved]), 'recording a resolved dead letter');
    }
  }

  /** Records `event` as a dead letter of this subscriber (retried while the store is out), then counts it a success. */
  async quarantine(event: RecordedEvent, error: Error, attempts: number, retryOf?: string): Promise<void> {
    if (isDeadLetterRecord(event)) {
      // Never a dead letter of a dead letter (a subscriber failing on its own records would write them forever).
      this.options.logger?.error(
        `${this.subscriber}: skipped dead-letter record ${event.id} (${event.type}) that failed after ${attempts} attempts: ${error.message}`,
      );
      this.succeeded();
      return;
    }
    const record = eventQuarantined(
      this.subscriber,
      event,
      { reason: failureReason(error), error: error.message, attempts, retryOf },
      this.now(),
    );
    const stream = deadLetterStreamId(event.metadata.workspaceId);
    await this.withRetries(() => this.options.store.appendToStream(stream, [record]), 'recording a dead letter');
    const data = record.data as EventQuarantinedData;
    this.options.logger?.error(
      `${this.subscriber}: quarantined event ${event.id} (${event.type}, ${event.streamId}, position ${event.position}) after ${attempts} attempts as dead letter ${data.deadLetterId}: ${error.stack ?? error.message}`,
    );
    this.options.onQuarantined?.(this.subscriber, event, error);
    this.succeeded(); // the subscriber moves on
  }

  /** Runs `work` until it succeeds, waiting out every failure with the backoff (the store of the records is out). */
  private async withRetries<T>(work: () => Promise<T>, what: string): Promise<T> {
    for (;;) {
      this.checkRunning();
      try {
        return await work();
      } catch (error) {
        this.checkRunning();
        await this.failed(error, what);
      }
    }
  }

  /**
   * Whether `error` is an outage rather than this event's fault: a transient error, or any error while the
   * subscriber's own store does not answer. Records nothing.
   */
  async isOutage(error: unknown): Promise<boolean> {
    return classifyFailure(error) === 'transient' || !(await this.probeAnswers());
  }

  private async probeAnswers(): Promise<boolean> {
    if (!this.options.probe) return true;
    try {
      await this.options.probe();
      return true;
    } catch {
      return false;
    }
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  private checkRunning(): void {
    if (this.stopped) throw new SubscriberStopped(this.subscriber);
  }

  /** Waits `ms` (a retry's wait that the subscriber schedules itself); rejects with SubscriberStopped when it stops. */
  sleepFor(ms: number): Promise<void> {
    return this.sleep(ms);
  }

  private async sleep(ms: number): Promise<void> {
    this.checkRunning();
    await new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleeping.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleeping.add(wake);
    });
    this.checkRunning();
  }
}

const RECORD_TYPES: ReadonlySet<string> = new Set(DEAD_LETTER_EVENT_TYPES);
const isDeadLetterRecord = (event: RecordedEvent) => RECORD_TYPES.has(event.type);
