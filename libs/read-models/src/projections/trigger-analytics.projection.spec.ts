import {
  decideTrigger,
  initialTriggerState,
  simulateCustomer,
  triggerStreamId,
  type JourneyEvent,
  type RecordedEvent,
} from '@journey/domain';
import { enabledProgram, History } from '../../../domain/src/triggers/testing';
import type { DocLookup, PutDoc, StoredDoc } from '../projection';
import {
  MESSAGES,
  TRIGGER_RUNS,
  TRIGGER_STEPS,
  messageDocId,
  stepKey,
  triggerAnalyticsProjection as projection,
  type MessageDoc,
  type RunDoc,
  type StepDoc,
} from '.';

const definition = {
  id: 'welcome',
  name: 'Welcome',
  entry: { event: 'Signed Up' },
  exit: [{ when: { event: 'Activated' }, reason: 'converted' }],
  steps: [
    {
      split: {
        holdout: 50,
        variants: [{ name: 'a', weight: 1, steps: [{ send: { channel: 'inbox', body: 'Hi' } }, { wait: { duration: '2d' } }] }],
      },
    },
  ],
};

/** 40 customers sign up; every third activates a day later. The log: the trigger definition, then each customer's stream. */
function log(): { events: RecordedEvent[]; activated: Set<string> } {
  const program = enabledProgram(definition, 'w');
  const [defined] = decideTrigger({ type: 'DefineTrigger', definition }, initialTriggerState('welcome'), {
    workspaceId: 'w',
    now: new Date('2025-01-01T00:00:00Z'),
  });
  const events: RecordedEvent[] = [];
  let position = 0n;
  const push = (e: JourneyEvent, streamId: string) => events.push({ ...e, streamId, revision: 0n, position: ++position });
  push(defined, triggerStreamId('w', 'welcome'));
  const activated = new Set<string>();
  for (let i = 0; i < 40; i++) {
    const h = new History(`c${i}`, 'w');
    h.track('2025-03-01T10:00:00Z', 'Signed Up');
    if (i % 3 === 0) {
      h.track('2025-03-02T10:00:00Z', 'Activated');
      activated.add(`c${i}`);
    }
    const { stream } = simulateCustomer([program], h.events, new Date('2025-03-10T00:00:00Z'));
    for (const e of stream) {
      push(e, `customer-w-c${i}`);
      // the dispatcher's outcome for every scheduled message; odd customers open it
      if (e.type === 'MessageScheduled') {
        const meta = { ...e.metadata, source: 'dispatcher' };
        push(
          {
            id: `${e.id}-d`,
            type: 'MessageDelivered',
            data: { messageId: e.data.messageId, channel: 'inbox', attempt: 1 },
            metadata: meta,
          },
          `customer-w-c${i}`,
        );
        if (i % 2)
          push({ id: `${e.id}-o`, type: 'MessageOpened', data: { messageId: e.data.messageId }, metadata: meta }, `customer-w-c${i}`);
      }
    }
  }
  return { events, activated };
}

/** Runs the projection over the log in batches of `size`, the way a store does (reads, then puts guarded by pos). */
function project(events: RecordedEvent[], size: number, docs = new Map<string, StoredDoc>()): Map<string, StoredDoc> {
  const key = (c: string, id: string) => `${c}/${id}`;
  for (let i = 0; i < events.length; i += size) {
    const batch = events.slice(i, i + size);
    const loaded = new Map(
      projection
        .reads(batch)
        .flatMap((r) => (docs.has(key(r.collection, r.id)) ? [[key(r.collection, r.id), docs.get(key(r.collection, r.id))!]] : [])),
    );
    const lookup: DocLookup = (r) => loaded.get(key(r.collection, r.id));
    for (const p of projection.apply(batch, lookup) as PutDoc[])
      if ((docs.get(key(p.collection, p.id))?.pos ?? -1n) < p.pos) docs.set(key(p.collection, p.id), p);
  }
  return docs;
}

const docsOf = <T>(docs: Map<string, StoredDoc>, collection: string) =>
  [...docs.entries()].filter(([k]) => k.startsWith(`${collection}/`)).map(([, d]) => d.doc as T);

describe('trigger-analytics projection', () => {
  const { events, activated } = log();

  it('counts entered steps, messages and their outcomes, conversions and holdout conversions', () => {
    const docs = project(events, 7);
    const runs = docsOf<RunDoc>(docs, TRIGGER_RUNS);
    const treated = runs.filter((r) => !r.holdout);
    const held = runs.filter((r) => r.holdout);
    expect(runs).toHaveLength(40);
    expect(treated.length).toBeGreaterThan(5);
    expect(held.length).toBeGreaterThan(5);
    expect(
      treated
        .filter((r) => r.converted)
        .map((r) => r.customerId)
        .sort(),
    ).toEqual(
      treated
        .filter((r) => activated.has(r.customerId))
        .map((r) => r.customerId)
        .sort(),
    );
    expect(
      held
        .filter((r) => r.holdoutConverted)
        .map((r) => r.customerId)
        .sort(),
    ).toEqual(
      held
        .filter((r) => activated.has(r.customerId))
        .map((r) => r.customerId)
        .sort(),
    );
    expect(held.filter((r) => r.holdoutConverted).length).toBeGreaterThan(0);
    expect(held.every((r) => r.exitReason === 'holdout' && !r.converted)).toBe(true);
    expect(treated.filter((r) => r.converted).every((r) => r.stepKey === stepKey('welcome', 1, '0.variants.0.1'))).toBe(true);

    const steps = Object.fromEntries(docsOf<StepDoc>(docs, TRIGGER_STEPS).map((s) => [s.step, s.entered]));
    expect(steps).toEqual({ '0': 40, '0.variants.0.0': treated.length, '0.variants.0.1': treated.length });

    const messages = docsOf<MessageDoc>(docs, MESSAGES);
    expect(messages).toHaveLength(treated.length);
    expect(
      messages.every((m) => m.key === stepKey('welcome', 1, '0.variants.0.0') && m.scheduled && m.delivered && m.status === 'delivered'),
    ).toBe(true);
    expect(
      messages
        .filter((m) => m.opened)
        .map((m) => m.customerId)
        .sort(),
    ).toEqual(
      treated
        .filter((r) => Number(r.customerId.slice(1)) % 2)
        .map((r) => r.customerId)
        .sort(),
    );
    expect(docs.get(`${MESSAGES}/${messageDocId('w', messages[0].messageId)}`)?.doc).toEqual(messages[0]);
  });

  it('gives the same documents whatever the batching, and a replayed batch changes nothing', () => {
    const once = project(events, events.length);
    expect(project(events, 3)).toEqual(once);
    const replayed = project(events.slice(events.length - 50), 50, new Map(once));
    expect(replayed).toEqual(once);
  });
});
