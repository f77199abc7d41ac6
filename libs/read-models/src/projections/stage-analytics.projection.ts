import { eventTime, type EventDataByType, type RecordedEvent, type Stage } from '@journey/domain';
import { DocBatch, type DocLookup, type DocRef, type Projection, type PutDoc } from '../projection';

export const STAGE_TRANSITIONS = 'stage_transitions';

export interface StageTransitionDoc {
  workspaceId: string;
  /** UTC day of the transition's event time, YYYY-MM-DD. */
  day: string;
  from: Stage | null;
  to: Stage;
  count: number;
}

function transitionOf(e: RecordedEvent): { id: string; key: Omit<StageTransitionDoc, 'count'> } | undefined {
  if (e.type !== 'StageChanged') return undefined;
  const d = e.data as EventDataByType['StageChanged'];
  const day = new Date(eventTime(e)).toISOString().slice(0, 10);
  const key = { workspaceId: e.metadata.workspaceId, day, from: d.from ?? null, to: d.to };
  return { id: [key.workspaceId, day, key.from ?? '', key.to].map(encodeURIComponent).join('/'), key };
}

/**
 * `stage-analytics`: stage transitions per workspace, day, from and to (counted from StageChanged events, which the
 * stage reactor emits). "Customers per stage now" is not duplicated here: it is a count over the `customers` read
 * model grouped by stage, which is always consistent with the customers themselves.
 */
export const stageAnalyticsProjection: Projection = {
  name: 'stage-analytics',
  collections: [{ name: STAGE_TRANSITIONS, indexes: [['workspaceId', 'day']] }],
  reads(events: readonly RecordedEvent[]): DocRef[] {
    const ids = new Set<string>();
    for (const e of events) {
      const t = transitionOf(e);
      if (t) ids.add(t.id);
    }
    return [...ids].map((id) => ({ collection: STAGE_TRANSITIONS, id }));
  },
  apply(events: readonly RecordedEvent[], docs: DocLookup): PutDoc[] {
    const batch = new DocBatch(docs);
    for (const e of events) {
      const t = transitionOf(e);
      if (!t) continue;
      batch.update<StageTransitionDoc>(
        STAGE_TRANSITIONS,
        t.id,
        e.position,
        () => ({ ...t.key, count: 0 }),
        (doc) => ({ ...doc, count: doc.count + 1 }),
      );
    }
    return batch.puts();
  },
};
