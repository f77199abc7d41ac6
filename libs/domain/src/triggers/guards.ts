/**
 * The guards of a message to a customer, pure: consent, frequency caps, priority between triggers, then quiet hours
 * (which defer, never drop). One function for every path that sends: a trigger's `send` step (the run decider), a
 * broadcast, a preview's verdicts and why-not. Every guard checked is recorded with its verdict (what explain reports).
 *
 * Quiet hours: a trigger's (or broadcast's) own `guards.quietHours` wins; without one, the workspace's default
 * (`quietHours` of the workspace settings, `GuardContext.workspaceQuietHours`) applies; `quietHours: none` opts out of
 * both. Either way the window is local time in the customer's zone.
 */
import type { GuardVerdict, Traits } from '../events';
import type { ScheduledMessage } from './run';
import { quietHoursEnd } from './time';

export interface GuardedSend {
  channel: string;
  topic?: string;
}

/** Quiet hours: local times `HH:MM` in the customer's time zone (`end` before `start` spans midnight). */
export interface QuietHours {
  start: string;
  end: string;
}

/** A trigger's or broadcast's own quiet hours: a window, or `none` (no quiet hours, not even the workspace default). */
export type QuietHoursSetting = QuietHours | 'none';

/** The value of `guards.quietHours` that opts out of the workspace default. */
export const NO_QUIET_HOURS = 'none';

/**
 * The quiet hours that apply to a message: its own (trigger or broadcast) when set, else the workspace default;
 * `none` means none. `from` says which (for the verdict's words).
 */
export function effectiveQuietHours(
  own: QuietHoursSetting | undefined,
  workspace: QuietHours | undefined,
): { quietHours?: QuietHours; from: 'own' | 'workspace' | 'none' } {
  if (own === NO_QUIET_HOURS) return { from: 'none' };
  if (own) return { quietHours: own, from: 'own' };
  return workspace ? { quietHours: workspace, from: 'workspace' } : { from: 'none' };
}

export interface GuardPolicy {
  /** The trigger (or `broadcast:<id>`) the message belongs to: a `trigger`-scoped cap counts its messages. */
  triggerId: string;
  /** Priority against `claim` (a trigger that already answered the same input). */
  priority: number;
  caps: ReadonlyArray<{ max: number; perMs: number; per: string; scope: 'customer' | 'channel' | 'trigger' }>;
  /** Its own quiet hours (`none`: opted out of the workspace default). */
  quietHours?: QuietHoursSetting;
}

export interface GuardContext {
  now: number;
  traits: Traits;
  timeZone: string;
  /** Messages already scheduled for the customer (for caps), including those decided earlier in the same decision. */
  messages: readonly ScheduledMessage[];
  claim?: { triggerId: string; priority: number };
  /** The workspace's default quiet hours (its settings' `quietHours`), for a policy that sets none of its own. */
  workspaceQuietHours?: QuietHours;
}

export interface GuardOutcome {
  guards: GuardVerdict[];
  /** The first guard that suppressed the message (the later ones are not checked). */
  suppressed?: { reason: string; detail: string };
  /** Inside quiet hours: the time (ms) the message waits for. */
  notBefore?: number;
}

/** Checks the guards in order; stops at the first that suppresses. */
export function checkGuards(policy: GuardPolicy, send: GuardedSend, ctx: GuardContext): GuardOutcome {
  const guards: GuardVerdict[] = [];
  const suppress = (guard: string, reason: string, detail: string): GuardOutcome => {
    guards.push({ guard, verdict: 'suppressed', detail });
    return { guards, suppressed: { reason, detail } };
  };
  const { traits } = ctx;
  const listed = (key: string, value: string) => Array.isArray(traits[key]) && (traits[key] as unknown[]).includes(value);
  if (traits.unsubscribed === true) return suppress('consent', 'consent', 'customer unsubscribed from all messages');
  if (listed('unsubscribedChannels', send.channel))
    return suppress('consent', 'consent', `customer unsubscribed from channel ${send.channel}`);
  if (send.topic && listed('unsubscribedTopics', send.topic))
    return suppress('consent', 'consent', `customer unsubscribed from topic ${send.topic}`);
  guards.push({
    guard: 'consent',
    verdict: 'passed',
    detail: `subscribed to channel ${send.channel}${send.topic ? ` and topic ${send.topic}` : ''}`,
  });
  for (const cap of policy.caps) {
    const from = ctx.now - cap.perMs;
    const count = ctx.messages.filter(
      (m) =>
        m.at > from &&
        (cap.scope === 'customer' || (cap.scope === 'channel' ? m.channel === send.channel : m.triggerId === policy.triggerId)),
    ).length;
    const scope = `${cap.scope}${cap.scope === 'channel' ? ` ${send.channel}` : ''}`;
    const name = `frequency-cap ${cap.max} per ${cap.per} (${scope})`;
    if (count >= cap.max) return suppress(name, 'frequency-cap', `at most ${cap.max} per ${cap.per} (${scope})`);
    guards.push({ guard: name, verdict: 'passed', detail: `${count} sent in the last ${cap.per}` });
  }
  const claim = ctx.claim;
  if (claim && claim.triggerId !== policy.triggerId && claim.priority > policy.priority)
    return suppress('priority', 'priority', `trigger ${claim.triggerId} (priority ${claim.priority}) matched the same event`);
  guards.push({
    guard: 'priority',
    verdict: 'passed',
    detail: claim
      ? `trigger ${claim.triggerId} (priority ${claim.priority}) does not outrank priority ${policy.priority}`
      : 'no higher-priority trigger sent on this event',
  });
  const { quietHours: quiet, from } = effectiveQuietHours(policy.quietHours, ctx.workspaceQuietHours);
  if (!quiet) {
    // opted out while the workspace has a default: say so (explain shows why a night send went out)
    if (policy.quietHours === NO_QUIET_HOURS && ctx.workspaceQuietHours) {
      const w = ctx.workspaceQuietHours;
      guards.push({
        guard: 'quiet-hours',
        verdict: 'passed',
        detail: `quiet hours off (quietHours: none), the workspace default ${w.start}-${w.end} does not apply`,
      });
    }
    return { guards };
  }
  const notBefore = quietHoursEnd(ctx.now, ctx.timeZone, quiet.start, quiet.end);
  const window = `${quiet.start}-${quiet.end} ${ctx.timeZone}${from === 'workspace' ? ' (workspace default)' : ''}`;
  guards.push(
    notBefore
      ? {
          guard: 'quiet-hours',
          verdict: 'deferred',
          detail: `inside quiet hours ${window}: deferred to ${new Date(notBefore).toISOString()}`,
        }
      : { guard: 'quiet-hours', verdict: 'passed', detail: `outside quiet hours ${window}` },
  );
  return notBefore ? { guards, notBefore } : { guards };
}
