import { DEFAULT_STAGE_POLICY, type StagePolicy } from '@journey/domain';

/**
 * The stage model's policy from the environment (defaults in DEFAULT_STAGE_POLICY):
 * JOURNEY_INACTIVITY_DAYS (days without activity before at-risk; fractions allowed, e.g. 0.0001 ≈ 8.6 s),
 * JOURNEY_RENEWAL_NOTICE_DAYS (days before the `renewal_date` trait when the renewal stage starts),
 * JOURNEY_ACTIVATION_EVENTS / JOURNEY_CHURN_EVENTS (comma-separated track event names).
 */
export function loadStagePolicy(env: NodeJS.ProcessEnv = process.env): StagePolicy {
  const days = (name: string, fallback: number, allowZero: boolean): number => {
    if (env[name] === undefined || env[name] === '') return fallback;
    const value = Number(env[name]);
    if (!Number.isFinite(value) || value < 0 || (value === 0 && !allowZero)) throw new Error(`${name} must be a number of days ${allowZero ? '(0 or more)' : 'above 0'}, got "${env[name]}"`);
    return value;
  };
  const names = (name: string, fallback: string[]): string[] => {
    const list = (env[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    return list.length > 0 ? list : fallback;
  };
  return {
    inactivityDays: days('JOURNEY_INACTIVITY_DAYS', DEFAULT_STAGE_POLICY.inactivityDays, false),
    renewalNoticeDays: days('JOURNEY_RENEWAL_NOTICE_DAYS', DEFAULT_STAGE_POLICY.renewalNoticeDays, true),
    activationEvents: names('JOURNEY_ACTIVATION_EVENTS', DEFAULT_STAGE_POLICY.activationEvents),
    churnEvents: names('JOURNEY_CHURN_EVENTS', DEFAULT_STAGE_POLICY.churnEvents),
  };
}
