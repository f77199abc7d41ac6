/**
 * Teams and members (PUT /v1/teams/:teamId, PUT /v1/members/:memberId) and the forms a person edits, both ways, with
 * the engine's rules checked first (libs/domain/src/conversations/organisation.ts); the engine checks again.
 */
import type { FieldErrors } from './settings-form';

export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];
export const WEEKDAYS = [
  [1, 'Monday'],
  [2, 'Tuesday'],
  [3, 'Wednesday'],
  [4, 'Thursday'],
  [5, 'Friday'],
  [6, 'Saturday'],
  [7, 'Sunday'],
] as const;

export type Notification = { channel: 'slack' | 'email'; to?: string };

export interface Team {
  teamId: string;
  name: string;
  timeZone: string;
  businessHours?: { days: number[]; start: string; end: string };
  sla?: Partial<Record<Priority, { firstResponse?: string; resolution?: string }>>;
  escalation?: { notify?: Notification[]; reassignToLead?: boolean };
  notifyHandoffs?: Notification[];
  lead?: string;
  ownerTrait?: string;
}

export interface Member {
  memberId: string;
  name: string;
  email?: string;
  teams: string[];
  slackUserId?: string;
  away: boolean;
  awayUntil?: string;
}

/** Team and member ids: letters, digits, `_`, `-`, `.` and `@`, 1 to 128 characters. */
export const ORG_ID = /^[A-Za-z0-9_.@-]{1,128}$/;
const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$/;
const DURATION = /^\d+(m|h|d)$/;
const EMAIL = /^[^@\s]+@[^@\s]+$/;

export interface TeamForm {
  teamId: string;
  name: string;
  timeZone: string;
  /** Business hours are the engine's default (Monday to Friday, 09:00 to 17:00) unless set. */
  customHours: boolean;
  days: number[];
  start: string;
  end: string;
  sla: Record<Priority, { firstResponse: string; resolution: string }>;
  lead: string;
  ownerTrait: string;
  reassignToLead: boolean;
  /** Escalations and handoffs posted to Slack, and emailed to these addresses (comma-separated). */
  escalateToSlack: boolean;
  escalateEmails: string;
  handoffToSlack: boolean;
  handoffEmails: string;
}
export type TeamField = Exclude<keyof TeamForm, 'sla'> | `sla.${Priority}.${'firstResponse' | 'resolution'}`;

export function emptyTeamForm(): TeamForm {
  return teamFormFrom(undefined);
}

export function teamFormFrom(team: Team | undefined): TeamForm {
  const sla = Object.fromEntries(
    PRIORITIES.map((p) => [p, { firstResponse: team?.sla?.[p]?.firstResponse ?? '', resolution: team?.sla?.[p]?.resolution ?? '' }]),
  ) as TeamForm['sla'];
  const notify = team?.escalation?.notify ?? [];
  const handoffs = team?.notifyHandoffs ?? [];
  return {
    teamId: team?.teamId ?? '',
    name: team?.name ?? '',
    timeZone: team?.timeZone ?? 'UTC',
    customHours: team?.businessHours !== undefined,
    days: team?.businessHours?.days ?? [1, 2, 3, 4, 5],
    start: team?.businessHours?.start ?? '09:00',
    end: team?.businessHours?.end ?? '17:00',
    sla,
    lead: team?.lead ?? '',
    ownerTrait: team?.ownerTrait ?? '',
    reassignToLead: team?.escalation?.reassignToLead ?? false,
    escalateToSlack: notify.some((n) => n.channel === 'slack'),
    escalateEmails: emails(notify),
    handoffToSlack: handoffs.some((n) => n.channel === 'slack'),
    handoffEmails: emails(handoffs),
  };
}

const emails = (list: Notification[]) =>
  list
    .filter((n) => n.channel === 'email' && n.to)
    .map((n) => n.to)
    .join(', ');

function notifications(slack: boolean, addresses: string): { list: Notification[]; bad?: string } {
  const list: Notification[] = slack ? [{ channel: 'slack' }] : [];
  for (const to of addresses.split(/[\s,;]+/).filter(Boolean)) {
    if (!EMAIL.test(to)) return { list, bad: `"${to}" is not an email address` };
    list.push({ channel: 'email', to });
  }
  return { list };
}

/** Whether the browser knows the IANA time zone (the engine refuses the ones it does not). */
export function isTimeZone(zone: string): boolean {
  if (!zone.trim()) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const minutes = (clock: string) => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));

/** The team document to PUT, or the errors by field. `memberIds`: the workspace's members (the lead must be one). */
export function teamFromForm(form: TeamForm, memberIds: readonly string[]): { team?: Team; errors: FieldErrors<TeamField> } {
  const errors: FieldErrors<TeamField> = {};
  const teamId = form.teamId.trim();
  if (!ORG_ID.test(teamId)) errors.teamId = 'letters, digits, _ - . or @ (1 to 128), like support';
  const timeZone = form.timeZone.trim() || 'UTC';
  if (!isTimeZone(timeZone)) errors.timeZone = `"${timeZone}" is not an IANA time zone like Europe/Paris`;
  if (form.customHours) {
    if (form.days.length === 0) errors.days = 'choose at least one working day';
    if (!CLOCK.test(form.start)) errors.start = 'a local time HH:MM';
    if (!CLOCK.test(form.end)) errors.end = 'a local time HH:MM';
    else if (CLOCK.test(form.start) && minutes(form.end) <= minutes(form.start)) errors.end = 'must be after the start';
  }
  const sla: NonNullable<Team['sla']> = {};
  for (const p of PRIORITIES) {
    const targets: { firstResponse?: string; resolution?: string } = {};
    for (const k of ['firstResponse', 'resolution'] as const) {
      const v = form.sla[p][k].trim();
      if (!v) continue;
      if (!DURATION.test(v)) errors[`sla.${p}.${k}`] = 'a duration in business hours like 30m, 4h or 2d';
      else targets[k] = v;
    }
    if (Object.keys(targets).length) sla[p] = targets;
  }
  const lead = form.lead.trim();
  if (lead && !memberIds.includes(lead)) errors.lead = `"${lead}" is not a member`;
  if (form.reassignToLead && !lead) errors.reassignToLead = 'reassigning to the lead needs a lead';
  const escalate = notifications(form.escalateToSlack, form.escalateEmails);
  if (escalate.bad) errors.escalateEmails = escalate.bad;
  const handoff = notifications(form.handoffToSlack, form.handoffEmails);
  if (handoff.bad) errors.handoffEmails = handoff.bad;
  if (Object.keys(errors).length) return { errors };

  const team: Team = { teamId, name: form.name.trim() || teamId, timeZone };
  if (form.customHours) team.businessHours = { days: [...new Set(form.days)].sort((a, b) => a - b), start: form.start, end: form.end };
  if (Object.keys(sla).length) team.sla = sla;
  if (escalate.list.length || form.reassignToLead)
    team.escalation = { ...(escalate.list.length && { notify: escalate.list }), ...(form.reassignToLead && { reassignToLead: true }) };
  if (handoff.list.length) team.notifyHandoffs = handoff.list;
  if (lead) team.lead = lead;
  if (form.ownerTrait.trim()) team.ownerTrait = form.ownerTrait.trim();
  return { team, errors };
}

export interface MemberForm {
  memberId: string;
  name: string;
  email: string;
  teams: string[];
  slackUserId: string;
}
export type MemberField = keyof MemberForm;

export function memberFormFrom(member: Member | undefined): MemberForm {
  return {
    memberId: member?.memberId ?? '',
    name: member?.name ?? '',
    email: member?.email ?? '',
    teams: member?.teams ?? [],
    slackUserId: member?.slackUserId ?? '',
  };
}

/** The member document to PUT (their availability is set apart), or the errors by field. */
export function memberFromForm(
  form: MemberForm,
  teamIds: readonly string[],
): { member?: Omit<Member, 'away' | 'awayUntil'>; errors: FieldErrors<MemberField> } {
  const errors: FieldErrors<MemberField> = {};
  const memberId = form.memberId.trim();
  if (!ORG_ID.test(memberId)) errors.memberId = 'letters, digits, _ - . or @ (1 to 128), like sam';
  const email = form.email.trim();
  if (email && !EMAIL.test(email)) errors.email = `"${email}" is not an email address`;
  const unknownTeam = form.teams.find((t) => !teamIds.includes(t));
  if (unknownTeam !== undefined) errors.teams = `team "${unknownTeam}" does not exist`;
  if (Object.keys(errors).length) return { errors };
  const slackUserId = form.slackUserId.trim();
  return {
    member: {
      memberId,
      name: form.name.trim() || memberId,
      ...(email && { email }),
      teams: [...new Set(form.teams)],
      ...(slackUserId && { slackUserId }),
    },
    errors,
  };
}

/** "Mon–Fri 09:00–17:00" (the engine's default when unset). */
export function describeHours(team: Team): string {
  const h = team.businessHours ?? { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' };
  const short = (d: number) => WEEKDAYS[d - 1]?.[1].slice(0, 3) ?? String(d);
  const consecutive = h.days.length > 1 && h.days.every((d, i) => i === 0 || d === h.days[i - 1] + 1);
  const days = consecutive ? `${short(h.days[0])}–${short(h.days[h.days.length - 1])}` : h.days.map(short).join(', ');
  return `${days} ${h.start}–${h.end}${team.businessHours ? '' : ' (default)'}`;
}

/** "high: 1h / 8h; urgent: 15m / 4h" (first response / resolution). */
export function describeSla(team: Team): string {
  const parts = PRIORITIES.filter((p) => team.sla?.[p]).map(
    (p) => `${p}: ${team.sla![p]!.firstResponse ?? '—'} / ${team.sla![p]!.resolution ?? '—'}`,
  );
  return parts.length ? parts.join('; ') : 'none';
}

/** How a 412 or 409 of the teams API reads to a person. */
export function conflictWords(status: number, engineMessage: string): string | undefined {
  if (status === 412)
    return 'Someone changed the teams and members since this page loaded them: nothing was saved. The list has been reloaded; check it and make your change again.';
  if (status === 409) return `The engine refused the change: ${engineMessage}`;
  return undefined;
}

/**
 * The body of PUT /v1/members/:id/availability: away (until a local date and time of the browser's, `YYYY-MM-DDTHH:MM`
 * from a datetime-local input, sent as ISO 8601) or back. `now`: a return time must be in the future.
 */
export function availabilityBody(
  away: boolean,
  untilLocal: string,
  now = new Date(),
): { body?: { away: boolean; until?: string }; error?: string } {
  if (!away || !untilLocal.trim()) return { body: { away } };
  const until = new Date(untilLocal);
  if (Number.isNaN(until.getTime())) return { error: 'a date and time, like 2026-01-12 08:00' };
  if (until.getTime() <= now.getTime()) return { error: 'must be in the future' };
  return { body: { away: true, until: until.toISOString() } };
}
