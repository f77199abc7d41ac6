/**
 * The shapes conversations, teams and workspace settings share (their events are in `../events.ts`). Pure types.
 */
import { envelope } from '../envelope';
import type { EventDataByType, EventType, JourneyEvent } from '../events';
import { deterministicId } from '../ids';
import type { QuietHours } from '../triggers/guards';
import type { Duration, TaskPriority } from '../triggers/schema';

/** Where the customer's side of a conversation happens. */
export const CONVERSATION_CHANNELS = ['inbox', 'email', 'slack', 'api'] as const;
export type ConversationChannel = (typeof CONVERSATION_CHANNELS)[number];

/** Why a conversation or task went to whom. */
export type AssignmentReason =
  /** The member a customer or account trait names (the team's `ownerTrait`, e.g. `csm_owner`). */
  | 'owner'
  /** The least loaded available member of the team. */
  | 'least-loaded'
  /** Nobody of the team is available: it waits in the team's queue. */
  | 'queued'
  /** A person assigned it over the API or from Slack. */
  | 'manual'
  /** An SLA breach reassigned it to the team's lead. */
  | 'escalation';

export type SlaTarget = 'first-response' | 'resolution';

/** Working hours of a team, in its time zone: ISO weekdays (1 Monday .. 7 Sunday), local `HH:MM` start and end. */
export interface BusinessHours {
  days: number[];
  start: string;
  end: string;
}

/** First-response and resolution targets, in business hours (`4h` is four working hours). */
export interface SlaTargets {
  firstResponse?: Duration;
  resolution?: Duration;
}

/** A notification to people: a Slack post through the `slack` channel, or an email to `to`. */
export type Notification = { channel: 'slack' | 'email'; to?: string };

/** What a breach does: notify, reassign to the lead. */
export interface Escalation {
  notify?: Notification[];
  reassignToLead?: boolean;
}

export type TeamDefinition = {
  teamId: string;
  name: string;
  /** IANA time zone of the business hours (default UTC). */
  timeZone: string;
  /** Default: Monday to Friday, 09:00 to 17:00. */
  businessHours?: BusinessHours;
  /** Targets per priority. */
  sla?: Partial<Record<TaskPriority, SlaTargets>>;
  escalation?: Escalation;
  /** Who is told when a conversation is handed to the team (Slack posts carry "Take it"). */
  notifyHandoffs?: Notification[];
  /** A member id: the lead an escalation reassigns to. */
  lead?: string;
  /** A customer or account trait naming the member who owns the customer (assigned first when available). */
  ownerTrait?: string;
  by?: string;
};

export type MemberDefinition = {
  memberId: string;
  name: string;
  email?: string;
  /** Team ids. */
  teams: string[];
  /** The member's Slack user id, so Slack actions are recorded as theirs. */
  slackUserId?: string;
  by?: string;
};

/** A workspace's settings. Secrets are referenced by name (`WorkspaceSecretSet`), never held here. */
export interface WorkspaceSettings {
  inApp?: {
    /** Browser origins allowed to call the in-app endpoints (CORS). */
    allowedOrigins: string[];
    /** The secret (by name) the company's backend signs customer ids with: HMAC-SHA256, hex. */
    identitySecret?: string;
  };
  email?: {
    /** Domain of the per-conversation reply addresses (`reply+<token>@<domain>`). */
    replyDomain?: string;
    /** The secret (by name) an inbound-parse webhook presents (HTTP basic auth password). */
    inboundSecret?: string;
    /**
     * The secret (by name) reply addresses are signed with (HMAC-SHA256 in the `reply+<token>` of every address);
     * unset: the one `inboundSecret` names. Changing it invalidates the reply addresses already sent.
     */
    replySecret?: string;
  };
  slack?: {
    /** The secret (by name) holding the incoming-webhook URL handoffs and SLA alerts are posted to. */
    webhookUrl?: string;
    /** The secret (by name) holding the Slack app's signing secret (request signatures v0). */
    signingSecret?: string;
  };
  /**
   * Change policy (#12): an enable of a trigger (or a new version of an enabled one, live at once) whose dry-run
   * estimate sends more than `maxDailyMessagesOnEnable` messages on its busiest day of the last `period` (a duration,
   * default `7d`) is refused with 422; an admin key may force it (`?force=true`, recorded on the trigger event).
   */
  policy?: { maxDailyMessagesOnEnable?: number; period?: string };
  /**
   * The workspace's default quiet hours: local times `HH:MM` in the customer's time zone, the same window as a
   * trigger's `guards.quietHours`. Every send of a trigger or broadcast that sets no quiet hours of its own is deferred
   * out of it (its own window wins; `quietHours: none` opts out). Decided when the send is: a change applies to later
   * sends, not to messages already scheduled.
   */
  quietHours?: QuietHours;
}

/** Who decides on a workspace's own stream (teams, settings): the workspace, the time and the person (`by`). */
export interface WorkspaceContext {
  workspaceId: string;
  now: Date;
  by?: string;
}

/**
 * The event builder of a workspace stream's decider: ids from the stream's kind and revision (a writer that lost the
 * race writes the winner's ids, stored once), the person as `by`, no customer.
 */
export function workspaceEvents(kind: string, ctx: WorkspaceContext, revision: number) {
  return <T extends EventType>(type: T, data: EventDataByType[T]): JourneyEvent<T, EventDataByType[T]> =>
    envelope({
      id: deterministicId(kind, ctx.workspaceId, revision),
      type,
      data: { ...data, ...(ctx.by !== undefined && { by: ctx.by }) },
      workspaceId: ctx.workspaceId,
      customerId: '',
      occurredAt: ctx.now.toISOString(),
      recordedAt: ctx.now.toISOString(),
      source: 'http',
    });
}
