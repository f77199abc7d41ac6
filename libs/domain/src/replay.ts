import type { JourneyEvent, RecordedEvent } from './events';

/**
 * The replay rule of a reactor that decides on a customer's stream and appends its effects to the same stream. Live,
 * the reactor folds its effects into the state the moment it decides them, while they land in the stream after the
 * events that came in meanwhile; so the state a cause saw is the stream before it, in order, with each of the reactor's
 * effects folded right after its cause (`metadata.causationId`), wherever it landed, and skipped at its own place.
 * Rebuilt that way after a crash, a replay decides the same events with the same ids (the store skips them), and a
 * cause whose effects are already stored is answered with them, not decided again with a later clock.
 */
export interface ReplayDecider<S> {
  /** A fresh state (a new object each call, if `evolve` mutates it). */
  initial(): S;
  /** Folds one event (may mutate `state` and return it). */
  evolve(state: S, event: JourneyEvent): S;
  /** The reactor's own effects: folded right after their cause. */
  isEffect(event: JourneyEvent): boolean;
  /** Events it decides on; the others are only folded (a state that is not kept is not rebuilt for them). */
  isInput(event: JourneyEvent): boolean;
  /**
   * The effects of an input and the state with both folded; `folded`: the input is an effect itself, already in the
   * state (e.g. a trigger's `emit`, decided on in its own turn).
   */
  decide(state: S, event: JourneyEvent, now: Date, folded: boolean): { state: S; effects: JourneyEvent[] };
  /** After each event handled live (optional): e.g. drops what no later decision reads. */
  settle?(state: S, event: JourneyEvent, now: Date): S;
}

/** A state as of `revision` of its stream (effects of the events up to it included, wherever they landed). */
export interface Replayed<S> {
  state: S;
  revision: bigint;
  /** Effects already stored for events after `revision`, by causing event id: a replay answers with them. */
  stored?: Map<string, JourneyEvent[]>;
}

/**
 * The state as of `revision` of `stream`, by the replay rule; `pending`: effects decided on events up to it, not stored
 * yet. The state before an event is `replayStream(decider, stream, event.revision - 1n)`.
 */
export function replayStream<S>(
  decider: ReplayDecider<S>,
  stream: readonly RecordedEvent[],
  revision: bigint,
  pending: readonly JourneyEvent[] = [],
): Replayed<S> {
  const effects = new Map<string, JourneyEvent[]>();
  for (const e of [...stream.filter((e) => decider.isEffect(e)), ...pending]) {
    const cause = e.metadata.causationId;
    if (cause !== undefined) effects.set(cause, [...(effects.get(cause) ?? []), e]);
  }
  let state = decider.initial();
  const stored = new Map<string, JourneyEvent[]>();
  for (const e of stream) {
    const caused = effects.get(e.id) ?? [];
    if (e.revision > revision) {
      if (caused.length > 0) stored.set(e.id, caused);
      continue;
    }
    state = fold(decider, decider.isEffect(e) ? state : decider.evolve(state, e), caused);
  }
  return { state, revision, ...(stored.size > 0 ? { stored } : {}) };
}

/**
 * Advances `replayed` past `event`, the next event of its stream, and returns the effects to append: the stored ones of
 * a cause already decided (a replay), else what the decider decides on an input.
 */
export function replayStep<S>(decider: ReplayDecider<S>, replayed: Replayed<S>, event: RecordedEvent, now: Date): JourneyEvent[] {
  const effect = decider.isEffect(event);
  const stored = replayed.stored?.get(event.id);
  let effects: JourneyEvent[] = [];
  if (stored) {
    replayed.stored!.delete(event.id);
    if (replayed.stored!.size === 0) replayed.stored = undefined;
    replayed.state = fold(decider, effect ? replayed.state : decider.evolve(replayed.state, event), (effects = stored));
  } else if (decider.isInput(event)) {
    ({ state: replayed.state, effects } = decider.decide(replayed.state, event, now, effect));
  } else if (!effect) {
    replayed.state = decider.evolve(replayed.state, event);
  }
  if (decider.settle) replayed.state = decider.settle(replayed.state, event, now);
  replayed.revision = event.revision;
  return effects;
}

function fold<S>(decider: ReplayDecider<S>, state: S, events: readonly JourneyEvent[]): S {
  for (const e of events) state = decider.evolve(state, e);
  return state;
}
