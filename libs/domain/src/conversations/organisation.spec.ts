import type { JourneyEvent } from '../events';
import {
  chooseAssignee,
  decideOrganisation,
  evolveOrganisation,
  initialOrganisation,
  isAvailable,
  OrganisationCommandError,
  type OrganisationCommand,
  type OrganisationState,
} from './organisation';

const NOW = new Date('2026-01-05T10:00:00.000Z');
const ctx = { workspaceId: 'ws', now: NOW, by: 'admin-ann' };

/** Given the commands, in order: the events they decided and the state after. */
function given(...commands: OrganisationCommand[]): { state: OrganisationState; events: JourneyEvent[] } {
  let state = initialOrganisation();
  const events: JourneyEvent[] = [];
  for (const c of commands)
    for (const e of decideOrganisation(c, state, ctx)) {
      events.push(e);
      state = evolveOrganisation(state, e);
    }
  return { state, events };
}
const when = (state: OrganisationState, command: OrganisationCommand) => decideOrganisation(command, state, ctx);
const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return e instanceof OrganisationCommandError ? `${e.code}: ${e.message}` : 'other';
  }
  return 'none';
};

const support: OrganisationCommand = {
  type: 'DefineTeam',
  team: { teamId: 'support', name: 'Support', timeZone: 'Europe/Paris', sla: { high: { firstResponse: '1h', resolution: '8h' } } },
};
const member = (memberId: string, teams = ['support']): OrganisationCommand => ({ type: 'DefineMember', member: { memberId, teams } });

describe('organisation decider (teams and members)', () => {
  it('given nothing, when a team is defined, then TeamDefined with its defaults and who did it; the same again changes nothing', () => {
    const { state, events } = given(support);
    expect(events.map((e) => e.type)).toEqual(['TeamDefined']);
    expect(events[0].data).toMatchObject({ teamId: 'support', name: 'Support', timeZone: 'Europe/Paris', by: 'admin-ann' });
    expect(state.teams.get('support')).toMatchObject({ sla: { high: { firstResponse: '1h', resolution: '8h' } } });
    expect(state.revision).toBe(1);
    expect(when(state, support)).toEqual([]);
  });

  it('given a team, when a bad team document arrives, then it is refused naming the field', () => {
    const { state } = given(support);
    expect(refusal(() => when(state, { type: 'DefineTeam', team: { teamId: 'x', timeZone: 'Mars/Base' } }))).toMatch(/invalid: timeZone/);
    expect(refusal(() => when(state, { type: 'DefineTeam', team: { teamId: 'x', lead: 'nobody' } }))).toMatch(
      /invalid: lead: unknown member/,
    );
    expect(refusal(() => when(state, { type: 'DefineTeam', team: { teamId: 'x', sla: { critical: {} } } }))).toMatch(
      /invalid: sla.critical: unknown priority/,
    );
  });

  it('given no team "sales", when a member of it is defined, then it is refused; of "support", then MemberDefined, available', () => {
    const { state } = given(support);
    expect(refusal(() => when(state, member('bob', ['sales'])))).toBe('invalid: teams: unknown team "sales"');
    const after = when(state, member('bob')).reduce(evolveOrganisation, state);
    expect(after.members.get('bob')).toMatchObject({ memberId: 'bob', name: 'bob', teams: ['support'], away: false });
    expect(isAvailable(after.members.get('bob')!, NOW)).toBe(true);
  });

  it('given a member, when marked away until a time, then unavailable until then, and redefining them keeps it', () => {
    const { state } = given(support, member('bob'), {
      type: 'SetAvailability',
      memberId: 'bob',
      away: true,
      until: '2026-01-06T09:00:00Z',
    });
    const bob = state.members.get('bob')!;
    expect(bob).toMatchObject({ away: true, awayUntil: '2026-01-06T09:00:00.000Z' });
    expect(isAvailable(bob, NOW)).toBe(false);
    expect(isAvailable(bob, new Date('2026-01-06T09:00:00Z'))).toBe(true);
    const renamed = when(state, { type: 'DefineMember', member: { memberId: 'bob', name: 'Bob', teams: ['support'] } }).reduce(
      evolveOrganisation,
      state,
    );
    expect(renamed.members.get('bob')).toMatchObject({ name: 'Bob', away: true });
    expect(refusal(() => when(state, { type: 'SetAvailability', memberId: 'eve', away: true }))).toMatch(/^not_found/);
  });

  it('given a team led by a member, when the lead is removed, then it is refused; another member is removed', () => {
    const { state } = given(support, member('lee'), member('bob'), {
      type: 'DefineTeam',
      team: { teamId: 'support', name: 'Support', timeZone: 'Europe/Paris', lead: 'lee', escalation: { reassignToLead: true } },
    });
    expect(refusal(() => when(state, { type: 'RemoveMember', memberId: 'lee' }))).toMatch(/^conflict: member "lee" leads support/);
    expect(when(state, { type: 'RemoveMember', memberId: 'bob' }).map((e) => e.type)).toEqual(['MemberRemoved']);
    expect(refusal(() => when(state, { type: 'RemoveMember', memberId: 'nobody' }))).toMatch(/^not_found/);
  });

  it('given a team with members, when the team is removed, then its members are no longer in it', () => {
    const { state } = given(support, member('bob'), { type: 'RemoveTeam', teamId: 'support' });
    expect(state.teams.has('support')).toBe(false);
    expect(state.members.get('bob')?.teams).toEqual([]);
    expect(refusal(() => when(state, { type: 'RemoveTeam', teamId: 'support' }))).toMatch(/^not_found/);
  });

  describe('chooseAssignee', () => {
    const { state } = given(
      support,
      { type: 'DefineTeam', team: { teamId: 'sales' } },
      member('ann'),
      member('bob'),
      member('cid'),
      member('dan', ['sales']),
      { type: 'SetAvailability', memberId: 'cid', away: true },
    );
    const load = new Map([
      ['ann', 3],
      ['bob', 1],
    ]);

    it('gives it to the owner a trait names when they are an available member of the team', () => {
      expect(chooseAssignee(state, 'support', { owner: 'ann', load, now: NOW })).toEqual({ assignee: 'ann', reason: 'owner' });
    });

    it('else to the least loaded available member (an away owner, or one of another team, is passed over)', () => {
      expect(chooseAssignee(state, 'support', { owner: 'cid', load, now: NOW })).toEqual({ assignee: 'bob', reason: 'least-loaded' });
      expect(chooseAssignee(state, 'support', { owner: 'dan', load, now: NOW })).toEqual({ assignee: 'bob', reason: 'least-loaded' });
      expect(chooseAssignee(state, 'support', { load: new Map(), now: NOW })).toEqual({ assignee: 'ann', reason: 'least-loaded' });
    });

    it('else queued, when nobody of the team is available', () => {
      const allAway = when(state, { type: 'SetAvailability', memberId: 'dan', away: true }).reduce(evolveOrganisation, state);
      expect(chooseAssignee(allAway, 'sales', { load, now: NOW })).toEqual({ reason: 'queued' });
      expect(chooseAssignee(state, 'nobody-team', { load, now: NOW })).toEqual({ reason: 'queued' });
    });
  });
});
