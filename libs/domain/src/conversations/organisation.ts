/**
 * Teams and their members, as events on one stream per workspace (`teams-<workspace>`): who can be handed a
 * conversation, in which time zone and business hours a team works, its SLA targets and escalation. Pure:
 * `decideOrganisation(command, state, ctx)` returns events, `evolveOrganisation` folds them, `chooseAssignee` picks
 * who gets a handoff.
 */
import { escapeWorkspaceId, typed, type EventDataByType, type JourneyEvent, type TypedEvent } from '../events';
import { TASK_PRIORITIES } from '../triggers/schema';
import { parseClock, parseDuration, safeTimeZone } from '../triggers/time';
import { workspaceEvents, type AssignmentReason, type MemberDefinition, type TeamDefinition } from './types';

export const teamsStreamId = (workspaceId: string): string => `teams-${escapeWorkspaceId(workspaceId)}`;

export const ORGANISATION_EVENT_TYPES = [
  'TeamDefined',
  'TeamRemoved',
  'MemberDefined',
  'MemberAvailabilityChanged',
  'MemberRemoved',
] as const;
export type OrganisationEvent = TypedEvent<(typeof ORGANISATION_EVENT_TYPES)[number]>;

export type Member = MemberDefinition & { away: boolean; awayUntil?: string };

export interface OrganisationState {
  teams: Map<string, TeamDefinition>;
  members: Map<string, Member>;
  /** Events in the stream (optimistic concurrency, `If-Match`, ids). */
  revision: number;
}

export const initialOrganisation = (): OrganisationState => ({ teams: new Map(), members: new Map(), revision: 0 });

export function evolveOrganisation(state: OrganisationState, event: JourneyEvent): OrganisationState {
  const e = typed(event);
  const teams = new Map(state.teams);
  const members = new Map(state.members);
  switch (e.type) {
    case 'TeamDefined': {
      const { by: _by, ...team } = e.data;
      teams.set(team.teamId, team);
      break;
    }
    case 'TeamRemoved':
      teams.delete(e.data.teamId);
      for (const [id, m] of members)
        if (m.teams.includes(e.data.teamId)) members.set(id, { ...m, teams: m.teams.filter((t) => t !== e.data.teamId) });
      break;
    case 'MemberDefined': {
      const { by: _by, ...member } = e.data;
      const before = members.get(member.memberId);
      members.set(member.memberId, { ...member, away: before?.away ?? false, ...(before?.awayUntil && { awayUntil: before.awayUntil }) });
      break;
    }
    case 'MemberAvailabilityChanged': {
      const m = members.get(e.data.memberId);
      if (m) {
        const { awayUntil: _old, ...rest } = m;
        members.set(m.memberId, {
          ...rest,
          away: e.data.away,
          ...(e.data.away && e.data.until !== undefined && { awayUntil: e.data.until }),
        });
      }
      break;
    }
    case 'MemberRemoved':
      members.delete(e.data.memberId);
      break;
    default:
      return state;
  }
  return { teams, members, revision: state.revision + 1 };
}

export const organisationFromStream = (events: Iterable<JourneyEvent>): OrganisationState => {
  let state = initialOrganisation();
  for (const e of events) state = evolveOrganisation(state, e);
  return state;
};

/** Whether the member takes work at `now`: not away, or away until a time that has passed. */
export function isAvailable(member: Member, now: Date): boolean {
  return !member.away || (member.awayUntil !== undefined && Date.parse(member.awayUntil) <= now.getTime());
}

export type OrganisationCommand =
  | { type: 'DefineTeam'; team: unknown }
  | { type: 'RemoveTeam'; teamId: string }
  | { type: 'DefineMember'; member: unknown }
  | { type: 'SetAvailability'; memberId: string; away: boolean; until?: string }
  | { type: 'RemoveMember'; memberId: string };

export class OrganisationCommandError extends Error {
  constructor(
    readonly code: 'not_found' | 'invalid' | 'conflict',
    message: string,
  ) {
    super(message);
    this.name = 'OrganisationCommandError';
  }
}

/** Team and member ids: letters, digits, `_`, `-`, `.` and `@`, 1 to 128 characters. */
export const ORG_ID = /^[A-Za-z0-9_.@-]{1,128}$/;

const invalid = (message: string) => new OrganisationCommandError('invalid', message);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const optionalString = (o: Record<string, unknown>, key: string): string | undefined => {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw invalid(`${key}: must be a non-empty string`);
  return v;
};

/** A list of notifications (`[{ channel: slack | email, to? }]`), checked at `path`. */
function notifications(value: unknown, path: string): Array<{ channel: 'slack' | 'email'; to?: string }> {
  if (!Array.isArray(value)) throw invalid(`${path}: must be a list of { channel: slack | email, to? }`);
  return value.map((n: unknown, i) => {
    if (!isRecord(n) || (n.channel !== 'slack' && n.channel !== 'email'))
      throw invalid(`${path}[${i}].channel: must be "slack" or "email"`);
    if (n.channel === 'email' && (typeof n.to !== 'string' || !n.to.includes('@')))
      throw invalid(`${path}[${i}].to: an email notification needs an address`);
    return { channel: n.channel, ...(typeof n.to === 'string' && { to: n.to }) };
  });
}

/** Checks a team document; every error names its field. */
export function validTeam(doc: unknown, state: OrganisationState): TeamDefinition {
  if (!isRecord(doc)) throw invalid('team: must be an object');
  const known = ['teamId', 'name', 'timeZone', 'businessHours', 'sla', 'escalation', 'notifyHandoffs', 'lead', 'ownerTrait'];
  const unknownKey = Object.keys(doc).find((k) => !known.includes(k));
  if (unknownKey) throw invalid(`${unknownKey}: unknown field (known: ${known.join(', ')})`);
  const teamId = doc.teamId;
  if (typeof teamId !== 'string' || !ORG_ID.test(teamId))
    throw invalid(`teamId: must match ${ORG_ID.source}, got ${JSON.stringify(teamId)}`);
  const name = optionalString(doc, 'name') ?? teamId;
  const timeZone = optionalString(doc, 'timeZone') ?? 'UTC';
  if (safeTimeZone(timeZone) !== timeZone) throw invalid(`timeZone: unknown IANA time zone "${timeZone}"`);
  const team: TeamDefinition = { teamId, name, timeZone };
  if (doc.businessHours !== undefined) {
    const h = doc.businessHours;
    if (!isRecord(h)) throw invalid('businessHours: must be an object { days, start, end }');
    const days = h.days;
    if (!Array.isArray(days) || days.length === 0 || days.some((d) => !Number.isInteger(d) || (d as number) < 1 || (d as number) > 7))
      throw invalid('businessHours.days: must be a non-empty list of ISO weekdays, 1 (Monday) to 7 (Sunday)');
    const start = parseClock(h.start);
    const end = parseClock(h.end);
    if (!start) throw invalid(`businessHours.start: must be a local time HH:MM, got ${JSON.stringify(h.start)}`);
    if (!end) throw invalid(`businessHours.end: must be a local time HH:MM, got ${JSON.stringify(h.end)}`);
    if (end.hour * 60 + end.minute <= start.hour * 60 + start.minute) throw invalid('businessHours.end: must be after start');
    team.businessHours = { days: [...new Set(days as number[])].sort(), start: h.start as string, end: h.end as string };
  }
  if (doc.sla !== undefined) {
    if (!isRecord(doc.sla)) throw invalid('sla: must be an object by priority ({ high: { firstResponse: "1h", resolution: "8h" } })');
    const sla: NonNullable<TeamDefinition['sla']> = {};
    for (const [priority, targets] of Object.entries(doc.sla)) {
      if (!TASK_PRIORITIES.includes(priority as never))
        throw invalid(`sla.${priority}: unknown priority (known: ${TASK_PRIORITIES.join(', ')})`);
      if (!isRecord(targets)) throw invalid(`sla.${priority}: must be an object { firstResponse?, resolution? }`);
      for (const [key, value] of Object.entries(targets)) {
        if (key !== 'firstResponse' && key !== 'resolution')
          throw invalid(`sla.${priority}.${key}: unknown target (known: firstResponse, resolution)`);
        if (!parseDuration(value))
          throw invalid(`sla.${priority}.${key}: must be a duration like 30m, 4h, 2d, got ${JSON.stringify(value)}`);
      }
      sla[priority as keyof typeof sla] = targets as never;
    }
    team.sla = sla;
  }
  if (doc.escalation !== undefined) {
    const x = doc.escalation;
    if (!isRecord(x)) throw invalid('escalation: must be an object { notify?, reassignToLead? }');
    const escalation: NonNullable<TeamDefinition['escalation']> = {};
    if (x.notify !== undefined) escalation.notify = notifications(x.notify, 'escalation.notify');
    if (x.reassignToLead !== undefined) {
      if (typeof x.reassignToLead !== 'boolean') throw invalid('escalation.reassignToLead: must be true or false');
      escalation.reassignToLead = x.reassignToLead;
    }
    team.escalation = escalation;
  }
  if (doc.notifyHandoffs !== undefined) team.notifyHandoffs = notifications(doc.notifyHandoffs, 'notifyHandoffs');
  const lead = optionalString(doc, 'lead');
  if (lead !== undefined) {
    if (!state.members.has(lead)) throw invalid(`lead: unknown member "${lead}"`);
    team.lead = lead;
  }
  if (team.escalation?.reassignToLead && team.lead === undefined) throw invalid('escalation.reassignToLead: the team needs a lead');
  const ownerTrait = optionalString(doc, 'ownerTrait');
  if (ownerTrait !== undefined) team.ownerTrait = ownerTrait;
  return team;
}

export function validMember(doc: unknown, state: OrganisationState): MemberDefinition {
  if (!isRecord(doc)) throw invalid('member: must be an object');
  const known = ['memberId', 'name', 'email', 'teams', 'slackUserId'];
  const unknownKey = Object.keys(doc).find((k) => !known.includes(k));
  if (unknownKey) throw invalid(`${unknownKey}: unknown field (known: ${known.join(', ')})`);
  const memberId = doc.memberId;
  if (typeof memberId !== 'string' || !ORG_ID.test(memberId))
    throw invalid(`memberId: must match ${ORG_ID.source}, got ${JSON.stringify(memberId)}`);
  const teams = doc.teams ?? [];
  if (!Array.isArray(teams) || teams.some((t) => typeof t !== 'string')) throw invalid('teams: must be a list of team ids');
  const unknownTeam = (teams as string[]).find((t) => !state.teams.has(t));
  if (unknownTeam !== undefined) throw invalid(`teams: unknown team "${unknownTeam}"`);
  const email = optionalString(doc, 'email');
  if (email !== undefined && !/^[^@\s]+@[^@\s]+$/.test(email)) throw invalid(`email: not an email address: "${email}"`);
  const slackUserId = optionalString(doc, 'slackUserId');
  return {
    memberId,
    name: optionalString(doc, 'name') ?? memberId,
    ...(email !== undefined && { email }),
    teams: [...new Set(teams as string[])],
    ...(slackUserId !== undefined && { slackUserId }),
  };
}

export function decideOrganisation(
  command: OrganisationCommand,
  state: OrganisationState,
  ctx: { workspaceId: string; now: Date; by?: string },
): OrganisationEvent[] {
  const event = workspaceEvents('organisation', ctx, state.revision);
  const make = <T extends OrganisationEvent['type']>(type: T, data: EventDataByType[T]) => event(type, data) as OrganisationEvent;
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  switch (command.type) {
    case 'DefineTeam': {
      const team = validTeam(command.team, state);
      return same(state.teams.get(team.teamId), team) ? [] : [make('TeamDefined', team)];
    }
    case 'RemoveTeam':
      if (!state.teams.has(command.teamId)) throw new OrganisationCommandError('not_found', `team "${command.teamId}" does not exist`);
      return [make('TeamRemoved', { teamId: command.teamId })];
    case 'DefineMember': {
      const member = validMember(command.member, state);
      const before = state.members.get(member.memberId);
      if (before) {
        const { away: _a, awayUntil: _u, ...definition } = before;
        if (same(definition, member)) return [];
      }
      return [make('MemberDefined', member)];
    }
    case 'SetAvailability': {
      const m = state.members.get(command.memberId);
      if (!m) throw new OrganisationCommandError('not_found', `member "${command.memberId}" does not exist`);
      if (command.until !== undefined && !Number.isFinite(Date.parse(command.until)))
        throw invalid(`until: must be an ISO 8601 time, got "${command.until}"`);
      if (m.away === command.away && m.awayUntil === command.until) return [];
      return [
        make('MemberAvailabilityChanged', {
          memberId: m.memberId,
          away: command.away,
          ...(command.away && command.until !== undefined && { until: new Date(command.until).toISOString() }),
        }),
      ];
    }
    case 'RemoveMember': {
      if (!state.members.has(command.memberId))
        throw new OrganisationCommandError('not_found', `member "${command.memberId}" does not exist`);
      const leads = [...state.teams.values()].filter((t) => t.lead === command.memberId).map((t) => t.teamId);
      if (leads.length)
        throw new OrganisationCommandError('conflict', `member "${command.memberId}" leads ${leads.join(', ')}: name another lead first`);
      return [make('MemberRemoved', { memberId: command.memberId })];
    }
  }
}

/**
 * Who gets a handoff to `teamId`: the owner (a member id a customer or account trait names) when they are an available
 * member of the team, else the least loaded available member (`load`: open items per member; ties by member id), else
 * nobody (the team's queue).
 */
export function chooseAssignee(
  state: OrganisationState,
  teamId: string,
  options: { owner?: unknown; load: ReadonlyMap<string, number>; now: Date },
): { assignee?: string; reason: AssignmentReason } {
  const candidates = [...state.members.values()].filter((m) => m.teams.includes(teamId) && isAvailable(m, options.now));
  const owner = typeof options.owner === 'string' ? candidates.find((m) => m.memberId === options.owner) : undefined;
  if (owner) return { assignee: owner.memberId, reason: 'owner' };
  const best = candidates
    .map((m) => ({ id: m.memberId, load: options.load.get(m.memberId) ?? 0 }))
    .sort((a, b) => a.load - b.load || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))[0];
  return best ? { assignee: best.id, reason: 'least-loaded' } : { reason: 'queued' };
}
