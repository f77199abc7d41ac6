import {
  DEFAULT_STAGE_POLICY,
  STAGE_INPUT_TYPES,
  decideStage,
  evolveStage,
  initialStageState,
  type RecordedEvent,
  type StagePolicy,
  type JourneyEvent,
  type StageState,
} from '@journey/domain';
import type { AppendRequest } from '@journey/event-store';
import type { Reactor, ReactorContext } from '../runtime/reactor';
import { CustomerStates, splitStream, type CustomerEntry } from '../triggers/customer-states';

const INPUT_TYPES = new Set(STAGE_INPUT_TYPES);
/** The stage model's own events (`decideStage` writes them with this source): folded right after their cause. */
const OUTPUT_TYPES = new Set(['StageChanged', 'TimerScheduled', 'TimerCancelled']);
const STAGE_SOURCE = 'reactor';
const isOutput = (e: RecordedEvent) => OUTPUT_TYPES.has(e.type) && e.metadata.source === STAGE_SOURCE;

/**
 * Keeps each customer's lifecycle stage (see `decideStage`): for every input event of an owned customer it takes the
 * customer's stage state as it stood just before that event, decides, and returns the events to append.
 *
 * "As it stood before the event" is what makes a replay safe: the state folds the customer's stream in order, with the
 * events the stage model decided folded right after the input that caused them (wherever they landed in the stream),
 * as the live reactor does; so deciding an event again after a crash reproduces the same events with the same ids,
 * and an input whose effects are already stored is answered with them (not decided again with a later clock). It sees every event of the customer streams
 * (not only inputs: other writers' events, such as a trigger's StageChanged, count where they are in the log).
 *
 * States are kept per customer (`CustomerStates`, an LRU of `cacheSize` customers) and advanced event by event, so the
 * stream is read only on a miss, a gap or a replay.
 */
export class StageReactor implements Reactor {
  readonly name = 'stage';
  readonly filter = { streamPrefixes: ['customer-'] };
  private readonly states: CustomerStates<StageState>;

  constructor(
    private readonly policy: StagePolicy = DEFAULT_STAGE_POLICY,
    options: { cacheSize?: number } = {},
  ) {
    this.states = new CustomerStates(options.cacheSize);
  }

  async react(events: RecordedEvent[], ctx: ReactorContext): Promise<AppendRequest[]> {
    this.states.begin(events);
    const appends: AppendRequest[] = [];
    for (const event of events) {
      if (!ctx.owns(event.metadata.workspaceId, event.metadata.customerId)) continue;
      let entry = this.states.before(event);
      if (!entry) {
        if (!isInput(event)) continue; // nothing to decide: no need to read the stream for it
        entry = stateBefore(await ctx.store.readStream(event.streamId), event);
      }
      const produced = this.handle(entry, event, ctx.now());
      this.states.advance(event, entry);
      if (produced.length > 0) appends.push({ streamId: event.streamId, events: produced, expectedRevision: 'any' });
    }
    this.states.end(events);
    return appends;
  }

  /**
   * Advances the state past `event` and answers it: an input is decided on, unless its effects are already stored (a
   * replay), in which case they are the answer (the store skips them as duplicates) and what is folded.
   */
  private handle(entry: CustomerEntry<StageState>, event: RecordedEvent, now: Date): JourneyEvent[] {
    if (isOutput(event)) return []; // folded with its cause
    const stored = entry.stored?.get(event.id);
    if (stored) entry.stored!.delete(event.id);
    const produced: JourneyEvent[] = stored ?? (isInput(event) ? decideStage(entry.state, event, now, this.policy) : []);
    entry.state = produced.reduce(evolveStage, evolveStage(entry.state, event));
    return produced;
  }
}

function isInput(event: RecordedEvent): boolean {
  return INPUT_TYPES.has(event.type) && (event.type !== 'TimerFired' || String((event.data as Record<string, unknown>).purpose).startsWith('stage:'));
}

/** The stage state before `input`, from the customer's stream (see `StageReactor`), with the effects already stored. */
export function stateBefore(stream: readonly RecordedEvent[], input: RecordedEvent): CustomerEntry<StageState> {
  const { before, effects, stored } = splitStream(stream, input.revision - 1n, isOutput);
  let state = initialStageState;
  for (const e of before) {
    if (isOutput(e)) continue;
    state = (effects.get(e.id) ?? []).reduce(evolveStage, evolveStage(state, e));
  }
  return { state, revision: input.revision - 1n, stored };
}
