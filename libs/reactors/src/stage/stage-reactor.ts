import {
  DEFAULT_STAGE_POLICY,
  STAGE_INPUT_TYPES,
  decideStage,
  evolveStage,
  initialStageState,
  type RecordedEvent,
  type StagePolicy,
  type StageState,
} from '@journey/domain';
import type { AppendRequest } from '@journey/event-store';
import type { Reactor, ReactorContext } from '../runtime/reactor';

/** The stage model's own events: folded into the state, but caused by (and so ordered after) an input event. */
const OUTPUT_TYPES = new Set(['StageChanged', 'TimerScheduled', 'TimerCancelled']);

/**
 * Keeps each customer's lifecycle stage (see `decideStage`): for every input event of an owned customer it loads the
 * customer's stage state as it stood just before that event, decides, and returns the events to append.
 *
 * "As it stood before the event" is what makes a replay safe: the state is folded from the customer's stream taking
 * the input events that precede it in the log plus the stage events those inputs caused (wherever they landed in the
 * stream), so deciding an event again after a crash reproduces the same events with the same ids. Within a batch the
 * state is carried forward in memory, so a customer's stream is read once per batch.
 */
export class StageReactor implements Reactor {
  readonly name = 'stage';
  readonly filter = { eventTypes: [...STAGE_INPUT_TYPES], streamPrefixes: ['customer-'] };

  constructor(private readonly policy: StagePolicy = DEFAULT_STAGE_POLICY) {}

  async react(events: RecordedEvent[], ctx: ReactorContext): Promise<AppendRequest[]> {
    const states = new Map<string, StageState>();
    const appends: AppendRequest[] = [];
    for (const event of events) {
      if (event.type === 'TimerFired' && !String((event.data as Record<string, unknown>).purpose).startsWith('stage:')) continue;
      if (!ctx.owns(event.metadata.workspaceId, event.metadata.customerId)) continue;
      const state = states.get(event.streamId) ?? stateBefore(await ctx.store.readStream(event.streamId), event.position);
      const produced = decideStage(state, event, ctx.now(), this.policy);
      states.set(event.streamId, produced.reduce(evolveStage, evolveStage(state, event)));
      if (produced.length > 0) appends.push({ streamId: event.streamId, events: produced, expectedRevision: 'any' });
    }
    return appends;
  }
}

/** The stage state before the input at `position`: earlier inputs, and the stage events caused by them. */
export function stateBefore(stream: RecordedEvent[], position: bigint): StageState {
  const inStream = new Set(stream.map((e) => e.id));
  const applied = new Set<string>();
  let state = initialStageState;
  for (const e of stream) {
    const cause = e.metadata.causationId;
    const isOutput = OUTPUT_TYPES.has(e.type) && cause !== undefined && inStream.has(cause);
    if (isOutput ? applied.has(cause) : e.position < position) {
      state = evolveStage(state, e);
      applied.add(e.id);
    }
  }
  return state;
}
