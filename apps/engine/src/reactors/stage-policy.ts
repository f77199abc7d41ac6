import { z } from 'zod';
import { DEFAULT_STAGE_POLICY, type StagePolicy } from '@journey/domain';
import { list, number, parseEnv } from '../env';

const days = (allowZero: boolean, fallback: number) =>
  number(
    {
      what: `a number of days ${allowZero ? '(0 or more)' : 'above 0'}`,
      valid: (n) => Number.isFinite(n) && (allowZero ? n >= 0 : n > 0),
      emptyIsUnset: true,
    },
    fallback,
  );

const ENV = z.object({
  JOURNEY_INACTIVITY_DAYS: days(false, DEFAULT_STAGE_POLICY.inactivityDays),
  JOURNEY_RENEWAL_NOTICE_DAYS: days(true, DEFAULT_STAGE_POLICY.renewalNoticeDays),
  JOURNEY_ACTIVATION_EVENTS: list(DEFAULT_STAGE_POLICY.activationEvents),
  JOURNEY_CHURN_EVENTS: list(DEFAULT_STAGE_POLICY.churnEvents),
});

/**
 * The stage model's policy from the environment (defaults in DEFAULT_STAGE_POLICY):
 * JOURNEY_INACTIVITY_DAYS (days without activity before at-risk; fractions allowed, e.g. 0.0001 ≈ 8.6 s),
 * JOURNEY_RENEWAL_NOTICE_DAYS (days before the `renewal_date` trait when the renewal stage starts),
 * JOURNEY_ACTIVATION_EVENTS / JOURNEY_CHURN_EVENTS (comma-separated track event names).
 */
export function loadStagePolicy(env: NodeJS.ProcessEnv = process.env): StagePolicy {
  const v = parseEnv(ENV, env);
  return {
    inactivityDays: v.JOURNEY_INACTIVITY_DAYS,
    renewalNoticeDays: v.JOURNEY_RENEWAL_NOTICE_DAYS,
    activationEvents: v.JOURNEY_ACTIVATION_EVENTS,
    churnEvents: v.JOURNEY_CHURN_EVENTS,
  };
}
