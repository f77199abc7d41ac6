import {
  DEFAULT_STAGE_POLICY,
  STAGE_INPUT_TYPES,
  decideStage,
  evolveStage,
  initialStageState,
  isMergedCopy,
  type ReplayDecider,
  type StagePolicy,
  type StageState,
} from '@journey/domain';
import { DeciderReactor } from '../runtime/decider-reactor';

const INPUT_TYPES = new Set(STAGE_INPUT_TYPES);
/** The stage state of a stream merged into another customer (CustomerMergedInto folded). */
type MergedStage = StageState & { merged?: true };

/** The stage model's own events (`decideStage` writes them with source `reactor`). */
const OUTPUT_TYPES = new Set(['StageChanged', 'TimerScheduled', 'TimerCancelled']);

/**
 * `decideStage` as a reactor sees it: it decides on activity, traits and its own timers, and folds every event of the
 * customer stream (other writers' events, such as a trigger's StageChanged, count where they are in the log).
 */
export function stageDecider(policy: StagePolicy = DEFAULT_STAGE_POLICY): ReplayDecider<StageState> {
  return {
    initial: () => initialStageState,
    // a stream merged into another customer (#12) keeps its stage: nothing is decided on it after the close
    evolve: (state, e) => (e.type === 'CustomerMergedInto' ? { ...state, merged: true } : evolveStage(state, e)) as MergedStage,
    isEffect: (e) => OUTPUT_TYPES.has(e.type) && e.metadata.source === 'reactor',
    // a merged id's copied history (#12) moves lastActivityAt but decides nothing: it was decided on live, under that id
    isInput: (e) => INPUT_TYPES.has(e.type) && !isMergedCopy(e) && (e.type !== 'TimerFired' || String(e.data.purpose).startsWith('stage:')),
    decide: (state, event, now) => {
      if ((state as MergedStage).merged) return { state: evolveStage(state, event), effects: [] };
      const effects = decideStage(state, event, now, policy);
      return { state: effects.reduce(evolveStage, evolveStage(state, event)), effects };
    },
  };
}

/** Keeps each customer's lifecycle stage (see `decideStage`), one `CustomerDecisions` state per customer. */
export class StageReactor extends DeciderReactor<StageState> {
  constructor(policy: StagePolicy = DEFAULT_STAGE_POLICY, options: { cacheSize?: number } = {}) {
    super('stage', { streamPrefixes: ['customer-'] }, stageDecider(policy), options.cacheSize);
  }
}
