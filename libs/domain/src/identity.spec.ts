import { foldCustomer } from './customer';
import type { JourneyEvent, RecordedEvent } from './events';
import {
  claimEvents,
  decideAlias,
  decideMergeStep,
  identityRole,
  isCopyable,
  isMergedCopy,
  mergeCopy,
  type IdentityRole,
} from './identity';
import { buildTimeline } from './timeline';
import { applyToView, emptyCustomerView } from './triggers/customer';

const NOW = new Date('2026-03-02T10:00:00.000Z');
const none: IdentityRole = { kind: 'none' };

let seq = 0;
function recorded(
  type: string,
  data: Record<string, unknown>,
  revision: number,
  extra: Partial<JourneyEvent['metadata']> = {},
): RecordedEvent {
  const at = new Date(Date.parse('2026-03-01T00:00:00.000Z') + revision * 60_000).toISOString();
  return {
    id: `e${++seq}`,
    type,
    data,
    metadata: { workspaceId: 'w', customerId: 'anon', occurredAt: at, recordedAt: at, source: 'http', schemaVersion: 1, ...extra },
    streamId: 'customer-w-anon',
    revision: BigInt(revision),
    position: BigInt(100 + revision),
  };
}
const claim = claimEvents('w', 'anon', 'u1', { occurredAt: NOW.toISOString(), recordedAt: NOW.toISOString() }).started;

describe('deciding an alias', () => {
  const given = (previous: IdentityRole, user: IdentityRole) => ({
    when: (previousId: string, userId: string) => ({
      then: (expected: unknown) => expect(decideAlias(previousId, userId, previous, user)).toEqual(expected),
    }),
  });

  it('merges an id that is nothing yet into the user', () =>
    given(none, none).when('anon', 'u1').then({ kind: 'merge', previousId: 'anon', userId: 'u1' }));

  it('refuses an id merged into itself, naming it', () =>
    given(none, none).when('u1', 'u1').then({ kind: 'refused', message: 'previousId and userId are the same ("u1"): nothing to merge' }));

  it('records nothing for the same alias again, whichever way round it is named', () => {
    given({ kind: 'alias', userId: 'u1' }, { kind: 'target' }).when('anon', 'u1').then({ kind: 'noop', userId: 'u1' });
    given({ kind: 'target' }, { kind: 'alias', userId: 'u1' }).when('u1', 'anon').then({ kind: 'noop', userId: 'u1' });
  });

  it('refuses an id already merged into another customer', () =>
    given({ kind: 'alias', userId: 'u2' }, none)
      .when('anon', 'u1')
      .then({ kind: 'refused', message: 'previousId "anon" is already merged into "u2": it cannot be merged into "u1" too' }));

  it('refuses a chain: a customer others were merged into is not merged into another one', () =>
    given({ kind: 'target' }, none).when('u1', 'u2').then({
      kind: 'refused',
      message: 'previousId "u1" has other ids merged into it: merging it into "u2" would make a chain (merge those ids into "u2" instead)',
    }));

  it('follows one step: into an id that was merged itself goes to the customer it was merged into', () =>
    given(none, { kind: 'alias', userId: 'u1' }).when('anon2', 'anon').then({ kind: 'merge', previousId: 'anon2', userId: 'u1' }));

  it('reads an id role from the first event of its identity stream', () => {
    const { started, added } = claimEvents('w', 'anon', 'u1', { occurredAt: NOW.toISOString(), recordedAt: NOW.toISOString() });
    expect(identityRole(undefined)).toEqual(none);
    expect(identityRole(started)).toEqual({ kind: 'alias', userId: 'u1' });
    expect(identityRole(added)).toEqual({ kind: 'target' });
  });
});

describe('one step of a merge', () => {
  const history = [
    recorded('PageViewed', { kind: 'page', name: 'Home', properties: {} }, 0),
    recorded('StageChanged', { from: null, to: 'onboarding', reason: 'first seen' }, 1, { source: 'reactor' }),
    recorded('InteractionRecorded', { event: 'Feature Used', properties: {} }, 2),
    recorded('MessageScheduled', { messageId: 'm1', channel: 'log', template: { body: 'hi' } }, 3, { source: 'reactor:triggers' }),
    recorded('InteractionRecorded', { event: 'Feature Used', properties: {} }, 4),
  ];

  it('copies the customer facts of a short history after an IdentitiesMerged, then closes the stream after its last event', () => {
    const step = decideMergeStep(claim, claim, 0n, history, NOW, 10);
    expect(step.toUser.map((e) => e.type)).toEqual(['IdentitiesMerged', 'PageViewed', 'InteractionRecorded', 'InteractionRecorded']);
    const copy = step.toUser[1];
    expect(copy.metadata).toMatchObject({
      customerId: 'u1',
      occurredAt: history[0].metadata.occurredAt,
      recordedAt: NOW.toISOString(),
      causationId: history[0].id,
      mergedFrom: 'anon',
      source: 'http',
    });
    expect(step.toUser[0]).toMatchObject({
      data: { previousId: 'anon', userId: 'u1' },
      metadata: { customerId: 'u1', source: 'identity' },
    });
    expect(step.next).toMatchObject({ kind: 'close', expectedRevision: 4n, event: { type: 'CustomerMergedInto', data: { userId: 'u1' } } });
  });

  it('records progress after a full batch, and the next step goes on after it without a second IdentitiesMerged', () => {
    const first = decideMergeStep(claim, claim, 0n, history.slice(0, 2), NOW, 2);
    expect(first.next).toMatchObject({ kind: 'progress', event: { type: 'IdentityMergeProgressed', data: { copiedUpTo: '1' } } });
    const progress = (first.next as { event: JourneyEvent }).event;
    const second = decideMergeStep(claim, progress, 2n, history.slice(2), NOW, 10);
    expect(second.toUser.map((e) => e.type)).toEqual(['InteractionRecorded', 'InteractionRecorded']);
    expect(second.next).toMatchObject({ kind: 'close', expectedRevision: 4n });
  });

  it('gives a step done again (a crash, a redelivery) the same ids, and sees the stream closed once it is', () => {
    const once = decideMergeStep(claim, claim, 0n, history, NOW, 10);
    const again = decideMergeStep(claim, claim, 0n, history, new Date(NOW.getTime() + 5000), 10);
    expect(again.toUser.map((e) => e.id)).toEqual(once.toUser.map((e) => e.id));
    const closed = [...history, recorded('CustomerMergedInto', { userId: 'u1' }, 5, { source: 'identity' })];
    const after = decideMergeStep(claim, claim, 0n, closed, NOW, 10);
    expect(after.toUser.map((e) => e.id)).toEqual(once.toUser.map((e) => e.id));
    expect(after.next).toEqual({ kind: 'closed', closedAt: 5n });
  });

  it('closes the stream of an id never seen (expected: no stream)', () =>
    expect(decideMergeStep(claim, claim, 0n, [], NOW)).toMatchObject({ next: { kind: 'close', expectedRevision: -1n } }));

  it('copies facts only: no decisions of the engine, no copies of copies', () => {
    expect(history.map(isCopyable)).toEqual([true, false, true, false, true]);
    expect(isCopyable(mergeCopy(history[0], 'u1', NOW))).toBe(false);
    expect(isMergedCopy(mergeCopy(history[0], 'u1', NOW))).toBe(true);
  });
});

describe('folding a merged history', () => {
  const userEvent = (type: string, data: Record<string, unknown>, at: string): JourneyEvent => ({
    id: `u${++seq}`,
    type,
    data,
    metadata: { workspaceId: 'w', customerId: 'u1', occurredAt: at, recordedAt: at, source: 'http', schemaVersion: 1 },
  });
  const anonIdentify = recorded('CustomerIdentified', { anonymousId: 'anon', traits: { plan: 'free', referrer: 'ad' } }, 0);
  const anonTrack = recorded('InteractionRecorded', { event: 'Feature Used', properties: {} }, 1);
  const user = [
    userEvent('CustomerIdentified', { userId: 'u1', traits: { plan: 'pro', name: 'Ann' } }, '2026-03-02T09:00:00.000Z'),
    userEvent('IdentitiesMerged', { previousId: 'anon', userId: 'u1' }, '2026-03-02T09:00:00.000Z'),
    mergeCopy(anonIdentify, 'u1', NOW),
    mergeCopy(anonTrack, 'u1', NOW),
  ];

  it('counts the history in the customer, the user traits winning over the merged id ones', () => {
    const state = foldCustomer('w', 'u1', user);
    expect(state.traits).toEqual({ plan: 'pro', name: 'Ann', referrer: 'ad' });
    expect(state.aliases).toEqual(['anon']);
    expect(state.interactions).toEqual({ total: 1, byEvent: { 'Feature Used': 1 } });
    expect(state.firstSeen).toBe(anonIdentify.metadata.occurredAt);
  });

  it('gives the trigger view the same traits and the history in event-time order', () => {
    const view = emptyCustomerView();
    for (const e of user) applyToView(view, e);
    expect(view.traits).toEqual({ plan: 'pro', name: 'Ann', referrer: 'ad' });
    expect(view.history.map((r) => r.name)).toEqual(['CustomerIdentified', 'Feature Used', 'CustomerIdentified', 'IdentitiesMerged']);
  });

  it('marks the merged id merged into the user, and the timelines say so', () => {
    const close = recorded('CustomerMergedInto', { userId: 'u1' }, 2, { source: 'identity' });
    expect(foldCustomer('w', 'anon', [anonIdentify, anonTrack, close]).mergedInto).toBe('u1');
    expect(buildTimeline([close]).map((t) => t.summary)).toEqual(['Merged into u1: its history and later calls are there']);
    const copies = user.map((e, i) => ({ ...e, streamId: 'customer-w-u1', revision: BigInt(i), position: BigInt(i) }));
    expect(buildTimeline(copies).find((t) => t.type === 'InteractionRecorded')).toMatchObject({
      summary: 'Tracked "Feature Used" (merged from anon)',
      details: { mergedFrom: 'anon' },
    });
  });
});
