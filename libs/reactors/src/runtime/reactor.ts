import type { RecordedEvent } from '@journey/domain';
import type { AppendRequest, EventFilter, EventStore } from '@journey/event-store';

/**
 * A reactor (process manager): reads the log in global order and answers with events to append. The runtime
 * (`ReactorRunner`) subscribes from the reactor's checkpoint, calls `react` per batch, appends what it returns, then
 * stores the checkpoint. A crash between the append and the checkpoint replays the batch: reactors MUST give every
 * event they return a deterministic id (`deterministicId(...)` from trigger version + customer + causing event + step),
 * so the replay's appends are skipped by the store as duplicates — effects happen at most once.
 *
 * Durable timers are events too: a reactor that needs to wait appends `TimerScheduled { timerId, dueAt, purpose,
 * payload }` to the customer's stream (timerId deterministic). The `TimerScheduler` appends `TimerFired` (id =
 * deterministicId('timer-fired', timerId)) to the same stream when it is due, unless `TimerCancelled { timerId }` came
 * first; the reactor then reacts to `TimerFired` like to any other event. `purpose` namespaces the owner, e.g.
 * `stage:inactivity` or `trigger:<triggerId>`.
 */
export interface Reactor {
  /** Checkpoint name, unique per reactor. */
  readonly name: string;
  /** Only these events are delivered (the runtime still advances the checkpoint past the others). */
  readonly filter?: EventFilter;
  react(events: RecordedEvent[], context: ReactorContext): Promise<AppendRequest[]>;
}

export interface ReactorContext {
  readonly store: EventStore;
  /** The engine's clock (tests pass a fake one); the domain never reads the clock itself. */
  now(): Date;
  /** Whether this process handles the customer (customers are partitioned between reactor processes). */
  owns(workspaceId: string, customerId: string): boolean;
}

/**
 * Injection token under which Nest modules register reactors; ReactorsModule runs every one of them. Nest has no
 * multi-providers, so each module declares its own provider with this token (value: a `Reactor` or `Reactor[]`) and
 * does NOT export it; ReactorsModule discovers all providers with this token across modules:
 *
 *   providers: [{ provide: REACTORS, useFactory: (store) => new TriggerReactor(store), inject: [EVENT_STORE] }]
 */
export const REACTORS = Symbol('REACTORS');
