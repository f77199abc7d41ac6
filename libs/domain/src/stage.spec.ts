import type { JourneyEvent } from './events';
import { DEFAULT_STAGE_POLICY, decideStage, evolveStage, initialStageState, type StagePolicy, type StageState } from './stage';

const DAY = 86_400_000;
const T0 = Date.parse('2025-01-01T00:00:00.000Z');
const at = (days: number) => new Date(T0 + days * DAY).toISOString();

let seq = 0;
const event = (type: string, data: Record<string, unknown>, occurredAt: string): JourneyEvent => ({
  id: `e${++seq}`,
  type,
  data,
  metadata: { workspaceId: 'w', customerId: 'c1', occurredAt, recordedAt: occurredAt, source: 'test', schemaVersion: 1 },
});
const identify = (day: number, traits: Record<string, unknown> = {}) => event('CustomerIdentified', { userId: 'c1', traits }, at(day));
const track = (name: string, day: number) => event('InteractionRecorded', { event: name, properties: {} }, at(day));
const traitsUpdated = (traits: Record<string, unknown>, day: number) => event('TraitsUpdated', { traits }, at(day));

/** Given these events happened (and the stage model reacted to each at its event time), when `e` arrives at `now`... */
function given(inputs: JourneyEvent[], policy: StagePolicy = DEFAULT_STAGE_POLICY) {
  let state: StageState = initialStageState;
  for (const input of inputs) state = applyDecision(state, input, new Date(input.metadata.occurredAt), policy);
  return {
    state,
    when(e: JourneyEvent | ((s: StageState) => JourneyEvent), now?: Date) {
      const incoming = typeof e === 'function' ? e(state) : e;
      const produced = decideStage(state, incoming, now ?? new Date(incoming.metadata.occurredAt), policy);
      return {
        produced,
        then: (expected: Array<{ type: string; data: Record<string, unknown> }>) =>
          expect(produced.map(({ type, data }) => ({ type, data }))).toEqual(expected),
      };
    },
  };
}

function applyDecision(state: StageState, input: JourneyEvent, now: Date, policy: StagePolicy): StageState {
  const produced = decideStage(state, input, now, policy);
  return produced.reduce<StageState>(evolveStage, evolveStage(state, input));
}

/** The TimerFired the scheduler would append for the state's pending timer (at its due time unless `day` is given). */
const fire = (purpose: 'inactivity' | 'renewal', day?: number) => (state: StageState) => {
  const timer = purpose === 'inactivity' ? state.inactivityTimer : state.renewalTimer;
  if (!timer) throw new Error(`no pending ${purpose} timer`);
  return event('TimerFired', { timerId: timer.timerId, purpose: `stage:${purpose}` }, day === undefined ? timer.dueAt : at(day));
};
const changed = (from: string | null, to: string, reason?: string) => ({
  type: 'StageChanged',
  data: { from, to, reason: reason ?? expect.any(String) },
});
const inactivityTimer = (dueDay: number) => ({
  type: 'TimerScheduled',
  data: { timerId: expect.any(String), dueAt: at(dueDay), purpose: 'stage:inactivity' },
});

describe('stage model', () => {
  describe('onboarding and activation', () => {
    it('the first identify starts onboarding and arms the inactivity timer from the event time', () => {
      given([])
        .when(identify(0))
        .then([changed(null, 'onboarding', 'first seen: CustomerIdentified'), inactivityTimer(14)]);
    });

    it('gives every produced event a deterministic id from the customer and the causing event, with the cause recorded', () => {
      const e = identify(0);
      const first = given([]).when(e).produced;
      const again = given([]).when(e, new Date(T0 + 5000)).produced;
      expect(again.map((x) => x.id)).toEqual(first.map((x) => x.id));
      expect(new Set(first.map((x) => x.id)).size).toBe(first.length);
      expect(first[0].metadata).toMatchObject({
        workspaceId: 'w',
        customerId: 'c1',
        causationId: e.id,
        occurredAt: at(0),
        source: 'reactor',
      });
      const other = given([]).when(identify(0)).produced;
      expect(other[0].id).not.toBe(first[0].id);
    });

    it('an activation event moves onboarding to active without a second inactivity timer', () => {
      given([identify(0)])
        .when(track('Project Created', 2))
        .then([changed('onboarding', 'active', 'activation event "Project Created"')]);
      given([identify(0)])
        .when(track('Activated', 2))
        .then([changed('onboarding', 'active')]);
    });

    it('other track events are activity but not activation; activation events are configurable', () => {
      given([identify(0)])
        .when(track('Logged In', 1))
        .then([]);
      const policy = { ...DEFAULT_STAGE_POLICY, activationEvents: ['First Invoice Paid'] };
      given([identify(0)], policy)
        .when(track('Project Created', 1))
        .then([]);
      given([identify(0)], policy)
        .when(track('First Invoice Paid', 1))
        .then([changed('onboarding', 'active')]);
    });

    it('a customer first seen through a track call starts onboarding too, and an activation as first event goes straight on to active', () => {
      given([])
        .when(track('Activated', 0))
        .then([changed(null, 'onboarding'), changed('onboarding', 'active'), inactivityTimer(14)]);
    });
  });

  describe('inactivity', () => {
    it('no activity for the inactivity period: at-risk when the timer fires', () => {
      given([identify(0), track('Activated', 0)])
        .when(fire('inactivity'))
        .then([changed('active', 'at-risk', `no activity for 14 days since ${at(0)}`)]);
    });

    it('activity since the timer was armed: no stage change, the timer is re-armed from the latest activity', () => {
      given([identify(0), track('Activated', 1), track('Logged In', 5)])
        .when(fire('inactivity'))
        .then([inactivityTimer(19)]);
    });

    it('uses the configured inactivity period', () => {
      given([], { ...DEFAULT_STAGE_POLICY, inactivityDays: 3 })
        .when(identify(0))
        .then([changed(null, 'onboarding'), inactivityTimer(3)]);
    });

    it('an onboarding customer who never activates becomes at-risk as well', () => {
      given([identify(0)])
        .when(fire('inactivity'))
        .then([changed('onboarding', 'at-risk')]);
    });

    it('a timer that is no longer pending (stale or unknown id) changes nothing', () => {
      const { state } = given([identify(0)]);
      given([identify(0)])
        .when(event('TimerFired', { timerId: 'someone-else', purpose: 'stage:inactivity' }, at(14)))
        .then([]);
      expect(state.inactivityTimer).toBeDefined();
    });

    it('reactivation: activity while at-risk makes the customer active again and re-arms the timer', () => {
      const atRisk = given([identify(0), track('Activated', 0)]);
      const afterFire = applyDecision(atRisk.state, fire('inactivity')(atRisk.state), new Date(at(14)), DEFAULT_STAGE_POLICY);
      expect(afterFire.stage).toBe('at-risk');
      expect(decideStage(afterFire, track('Logged In', 20), new Date(at(20))).map(({ type, data }) => ({ type, data }))).toEqual([
        changed('at-risk', 'active', 'reactivated: "Logged In"'),
        inactivityTimer(34),
      ]);
    });
  });

  describe('late and out-of-order events', () => {
    /** Identify on day 0, activity on day 10, then a late event dated day 1: the inactivity deadline stays at day 24. */
    it('a late activity event never moves the last activity back', () => {
      const { state } = given([identify(0), track('Activated', 0), track('Logged In', 10), track('Logged In', 1)]);
      expect(state.lastActivityAt).toBe(at(10));
      given([identify(0), track('Activated', 0), track('Logged In', 10), track('Logged In', 1)])
        .when(fire('inactivity'))
        .then([inactivityTimer(24)]);
    });

    it('a late event older than the at-risk deadline does not reactivate; one that proves the customer was active does', () => {
      const base = given([identify(0), track('Activated', 0)]);
      const atRisk = applyDecision(base.state, fire('inactivity')(base.state), new Date(at(14)), DEFAULT_STAGE_POLICY);
      expect(atRisk.stage).toBe('at-risk');
      // arrives on day 15, dated day -3: still no activity in the 14 days before the deadline
      expect(decideStage(atRisk, track('Logged In', -3), new Date(at(15)))).toEqual([]);
      // arrives on day 15, dated day 5: the customer was active after all
      expect(decideStage(atRisk, track('Logged In', 5), new Date(at(15))).map(({ type, data }) => ({ type, data }))).toEqual([
        changed('at-risk', 'active'),
        inactivityTimer(19),
      ]);
    });
  });

  describe('churn', () => {
    it('the track event "Subscription Cancelled" churns the customer', () => {
      given([identify(0), track('Activated', 1)])
        .when(track('Subscription Cancelled', 3))
        .then([changed('active', 'churned', 'churn event "Subscription Cancelled"')]);
    });

    it('the trait status "churned" churns the customer (identify or traits update)', () => {
      given([identify(0)])
        .when(traitsUpdated({ status: 'Churned' }, 2))
        .then([changed('onboarding', 'churned', 'trait status is "churned"')]);
      given([identify(0), track('Activated', 1)])
        .when(identify(2, { status: 'churned' }))
        .then([changed('active', 'churned')]);
    });

    it('activity after the churn reactivates; a late event from before the churn does not; the inactivity timer does nothing', () => {
      const churned = given([identify(0), track('Activated', 1), track('Subscription Cancelled', 3)]);
      expect(churned.state.stage).toBe('churned');
      churned.when(track('Logged In', 2), new Date(at(4))).then([]);
      churned.when(fire('inactivity')).then([]);
      churned.when(track('Logged In', 6)).then([changed('churned', 'active', 'reactivated after churn: "Logged In"')]);
    });
  });

  describe('renewal', () => {
    const renewalTimer = (dueDay: number, renewalDay: number) => ({
      type: 'TimerScheduled',
      data: { timerId: expect.any(String), dueAt: at(dueDay), purpose: 'stage:renewal', payload: { renewalDate: at(renewalDay) } },
    });

    it('a renewal date in the future arms the renewal timer the notice period before it; when it fires: renewal', () => {
      given([identify(0), track('Activated', 1)])
        .when(traitsUpdated({ renewal_date: at(100) }, 2))
        .then([renewalTimer(70, 100)]);
      given([identify(0), track('Activated', 1), traitsUpdated({ renewal_date: at(100) }, 2)])
        .when(fire('renewal'))
        .then([changed('active', 'renewal', `renewal on ${at(100)}`)]);
    });

    it('a renewal date inside the notice window arms a timer that is already due (it fires at once)', () => {
      given([identify(0, { renewal_date: at(10) })])
        .when(fire('renewal'))
        .then([changed('onboarding', 'renewal')]);
      expect(
        given([])
          .when(identify(0, { renewal_date: at(10) }))
          .produced.find((e) => e.type === 'TimerScheduled' && e.data.purpose === 'stage:renewal')?.data,
      ).toMatchObject({ dueAt: at(-20) });
    });

    it('a renewal date in the past arms nothing', () => {
      given([identify(0)])
        .when(traitsUpdated({ renewal_date: at(-5) }, 1))
        .then([]);
    });

    it('a new renewal date cancels the pending timer and arms a new one; renewing moves renewal back to active', () => {
      const history = [identify(0), track('Activated', 1), traitsUpdated({ renewal_date: at(100) }, 2)];
      const { state } = given(history);
      given(history)
        .when(traitsUpdated({ renewal_date: at(200) }, 3))
        .then([
          { type: 'TimerCancelled', data: { timerId: state.renewalTimer!.timerId, reason: 'renewal date changed' } },
          renewalTimer(170, 200),
        ]);
      const inRenewal = [...history, event('TimerFired', { timerId: state.renewalTimer!.timerId, purpose: 'stage:renewal' }, at(70))];
      expect(given(inRenewal).state.stage).toBe('renewal');
      given(inRenewal)
        .when(traitsUpdated({ renewal_date: at(465) }, 90))
        .then([renewalTimer(435, 465), changed('renewal', 'active', `renewal date moved to ${at(465)}`)]);
    });

    it('an at-risk customer stays at-risk when the renewal notice comes', () => {
      const history = [identify(0, { renewal_date: at(40) })];
      const base = given(history);
      const atRisk = applyDecision(base.state, fire('inactivity')(base.state), new Date(at(14)), DEFAULT_STAGE_POLICY);
      expect(atRisk.stage).toBe('at-risk');
      expect(decideStage(atRisk, fire('renewal')(atRisk), new Date(at(14)))).toEqual([]);
    });

    it.each([['next tuesday'], [42], [{ date: '2025-05-01' }], [true]])(
      'an invalid renewal_date trait (%p) is ignored without a crash: the previous date stands',
      (value) => {
        const { state } = given([identify(0, { renewal_date: at(100) })]);
        given([identify(0, { renewal_date: at(100) })])
          .when(traitsUpdated({ renewal_date: value }, 2))
          .then([]);
        expect(evolveStage(state, traitsUpdated({ renewal_date: value }, 2)).renewalDate).toBe(at(100));
        given([])
          .when(identify(0, { renewal_date: value }))
          .then([changed(null, 'onboarding'), inactivityTimer(14)]);
      },
    );
  });
});
