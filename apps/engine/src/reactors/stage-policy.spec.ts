import { DEFAULT_STAGE_POLICY } from '@journey/domain';
import { loadStagePolicy } from './stage-policy';

describe('stage policy from the environment', () => {
  it('defaults when nothing is set', () => {
    expect(loadStagePolicy({})).toEqual(DEFAULT_STAGE_POLICY);
  });

  it('reads fractional days and comma-separated event names', () => {
    expect(
      loadStagePolicy({
        JOURNEY_INACTIVITY_DAYS: '0.5',
        JOURNEY_RENEWAL_NOTICE_DAYS: '0',
        JOURNEY_ACTIVATION_EVENTS: 'Activated, Invoice Paid ,',
        JOURNEY_CHURN_EVENTS: 'Account Closed',
      }),
    ).toEqual({
      inactivityDays: 0.5,
      renewalNoticeDays: 0,
      activationEvents: ['Activated', 'Invoice Paid'],
      churnEvents: ['Account Closed'],
    });
  });

  it.each([
    ['JOURNEY_INACTIVITY_DAYS', '0', 'JOURNEY_INACTIVITY_DAYS must be a number of days above 0, got "0"'],
    ['JOURNEY_INACTIVITY_DAYS', 'two weeks', 'JOURNEY_INACTIVITY_DAYS must be a number of days above 0, got "two weeks"'],
    ['JOURNEY_RENEWAL_NOTICE_DAYS', '-1', 'JOURNEY_RENEWAL_NOTICE_DAYS must be a number of days (0 or more), got "-1"'],
  ])('rejects %s=%s naming the variable', (name, value, message) => {
    expect(() => loadStagePolicy({ [name]: value })).toThrow(message);
  });
});
