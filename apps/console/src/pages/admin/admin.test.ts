import { describe, expect, it } from 'vitest';
import { isLastAdmin, maskedKey, nameError, newKeyBody, sortKeys, type KeyView } from './keys';
import {
  durationMs,
  formFromSettings,
  missingSecrets,
  parseOrigins,
  secretErrors,
  secretUses,
  settingsConflict,
  settingsFromForm,
  type WorkspaceSettings,
} from './settings-form';
import {
  availabilityBody,
  conflictWords,
  describeHours,
  describeSla,
  isTimeZone,
  memberFormFrom,
  memberFromForm,
  teamFormFrom,
  teamFromForm,
  type Team,
} from './team-form';

const FULL: WorkspaceSettings = {
  inApp: { allowedOrigins: ['https://app.example.com', 'http://localhost:5173'], identitySecret: 'inapp_identity' },
  email: { replyDomain: 'reply.example.com', inboundSecret: 'inbound_mail' },
  slack: { webhookUrl: 'slack_webhook', signingSecret: 'slack_signing' },
  policy: { maxDailyMessagesOnEnable: 1000, period: '7d' },
};

describe('workspace settings form', () => {
  it('maps a settings document to the form and back unchanged', () => {
    const form = formFromSettings(FULL);
    expect(form.allowedOrigins).toBe('https://app.example.com\nhttp://localhost:5173');
    expect(form.maxDailyMessagesOnEnable).toBe('1000');
    expect(settingsFromForm(form, FULL)).toEqual({ settings: FULL, errors: {} });
  });

  it('keeps a section the document had, even emptied, and leaves out one it never had', () => {
    const form = { ...formFromSettings(FULL), allowedOrigins: '', identitySecret: '', slackWebhookUrl: '', slackSigningSecret: '' };
    const { settings } = settingsFromForm(form, FULL);
    expect(settings?.inApp).toEqual({ allowedOrigins: [] });
    expect(settings?.slack).toEqual({});
    expect(settingsFromForm(formFromSettings({}), {}).settings).toEqual({});
  });

  it('reads origins one per line or separated by commas, trimming slashes and duplicates', () => {
    expect(parseOrigins(' https://a.example.com/ ,https://b.example.com\n\nhttps://a.example.com')).toEqual([
      'https://a.example.com',
      'https://b.example.com',
    ]);
  });

  it('names every field that is wrong, as the engine would, and builds no document', () => {
    const form = {
      ...formFromSettings({}),
      allowedOrigins: 'https://ok.example.com\nhttps://app.example.com/path',
      identitySecret: '9bad',
      replyDomain: 'not a domain',
      maxDailyMessagesOnEnable: '-3',
      policyPeriod: '12h',
    };
    const { settings, errors } = settingsFromForm(form);
    expect(settings).toBeUndefined();
    expect(Object.keys(errors).sort()).toEqual([
      'allowedOrigins',
      'identitySecret',
      'maxDailyMessagesOnEnable',
      'policyPeriod',
      'replyDomain',
    ]);
    expect(errors.allowedOrigins).toContain('https://app.example.com/path');
    expect(errors.policyPeriod).toContain('1d to 90d');
  });

  it('parses durations', () => {
    expect(durationMs('7d')).toBe(7 * 86_400_000);
    expect(durationMs('90m')).toBe(5_400_000);
    expect(durationMs('7 days')).toBeUndefined();
  });

  it('says which settings use a secret, and which named secrets are missing', () => {
    const s: WorkspaceSettings = { email: { inboundSecret: 'mail', replySecret: 'mail' }, slack: { webhookUrl: 'hook' } };
    expect(secretUses(s).get('mail')).toEqual(['Inbound email secret', 'Reply address signing secret']);
    expect(missingSecrets(s, ['mail'])).toEqual(['hook']);
  });

  it('checks a secret before it is sent', () => {
    expect(secretErrors('crm_token', 's3cret')).toEqual({});
    expect(Object.keys(secretErrors('crm-token', ''))).toEqual(['name', 'value']);
    expect(secretErrors('a', 'x'.repeat(4097)).value).toContain('4096');
  });

  it('sees a conflict only when the document changed since it was loaded (not when a secret moved the revision)', () => {
    expect(
      settingsConflict(FULL, { settings: JSON.parse(JSON.stringify(FULL)) as WorkspaceSettings, secrets: ['x'], revision: 9 }),
    ).toBeUndefined();
    const reordered = { policy: FULL.policy, slack: FULL.slack, email: FULL.email, inApp: FULL.inApp };
    expect(settingsConflict(FULL, { settings: reordered, secrets: [], revision: 9 })).toBeUndefined();
    const words = settingsConflict(FULL, { settings: { ...FULL, policy: { period: '3d' } }, secrets: [], revision: 12 });
    expect(words).toContain('revision 12');
    expect(words).toContain('not saved');
  });
});

const TEAM: Team = {
  teamId: 'support',
  name: 'Support',
  timeZone: 'Europe/Paris',
  businessHours: { days: [1, 2, 3, 4], start: '08:30', end: '18:00' },
  sla: { high: { firstResponse: '1h', resolution: '8h' }, urgent: { firstResponse: '15m' } },
  escalation: { notify: [{ channel: 'slack' }, { channel: 'email', to: 'lead@example.com' }], reassignToLead: true },
  notifyHandoffs: [{ channel: 'email', to: 'team@example.com' }],
  lead: 'sam',
  ownerTrait: 'csm_owner',
};

describe('team and member forms', () => {
  it('maps a team to the form and back unchanged', () => {
    expect(teamFromForm(teamFormFrom(TEAM), ['sam'])).toEqual({ team: TEAM, errors: {} });
  });

  it('leaves out what the form leaves empty (the engine applies its defaults)', () => {
    const form = { ...teamFormFrom(undefined), teamId: 'sales' };
    expect(teamFromForm(form, [])).toEqual({ team: { teamId: 'sales', name: 'sales', timeZone: 'UTC' }, errors: {} });
  });

  it('names each wrong field of a team', () => {
    const form = teamFormFrom(TEAM);
    form.teamId = 'has space';
    form.timeZone = 'Mars/Olympus';
    form.end = '08:00';
    form.sla.low.resolution = 'soon';
    form.escalateEmails = 'lead@example.com, nobody';
    const { team, errors } = teamFromForm(form, []);
    expect(team).toBeUndefined();
    expect(Object.keys(errors).sort()).toEqual(['end', 'escalateEmails', 'lead', 'sla.low.resolution', 'teamId', 'timeZone']);
    expect(errors.end).toBe('must be after the start');
    expect(errors.lead).toContain('sam');
  });

  it('needs a lead to reassign to', () => {
    const form = { ...teamFormFrom(TEAM), lead: '' };
    expect(teamFromForm(form, ['sam']).errors.reassignToLead).toContain('needs a lead');
  });

  it('knows IANA time zones', () => {
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('Nowhere/Atlantis')).toBe(false);
    expect(isTimeZone('')).toBe(false);
  });

  it('describes hours and SLA targets as a person reads them', () => {
    expect(describeHours(TEAM)).toBe('Mon–Thu 08:30–18:00');
    expect(describeHours({ ...TEAM, businessHours: undefined })).toBe('Mon–Fri 09:00–17:00 (default)');
    expect(describeHours({ ...TEAM, businessHours: { days: [1, 3, 5], start: '09:00', end: '12:00' } })).toBe('Mon, Wed, Fri 09:00–12:00');
    expect(describeSla(TEAM)).toBe('high: 1h / 8h; urgent: 15m / —');
  });

  it('maps a member and refuses an unknown team or a bad email', () => {
    const member = { memberId: 'sam', name: 'Sam Lee', email: 'sam@example.com', teams: ['support'], away: false };
    expect(memberFromForm(memberFormFrom(member), ['support'])).toEqual({
      member: { memberId: 'sam', name: 'Sam Lee', email: 'sam@example.com', teams: ['support'] },
      errors: {},
    });
    const { member: none, errors } = memberFromForm({ ...memberFormFrom(member), email: 'sam', teams: ['ghosts'] }, ['support']);
    expect(none).toBeUndefined();
    expect(errors).toEqual({ email: '"sam" is not an email address', teams: 'team "ghosts" does not exist' });
  });

  it('builds the availability body: away until a future time, or back', () => {
    const now = new Date('2026-03-01T10:00:00Z');
    expect(availabilityBody(false, '2026-03-02T09:00', now)).toEqual({ body: { away: false } });
    expect(availabilityBody(true, '', now)).toEqual({ body: { away: true } });
    expect(availabilityBody(true, '2026-03-02T09:00', now).body).toEqual({ away: true, until: new Date('2026-03-02T09:00').toISOString() });
    expect(availabilityBody(true, '2020-01-01T09:00', now).error).toBe('must be in the future');
    expect(availabilityBody(true, 'soon', now).error).toContain('a date and time');
  });

  it('puts a 412 and a 409 in words', () => {
    expect(conflictWords(412, 'revision 3 expected')).toContain('changed the teams and members since');
    expect(conflictWords(409, 'member "sam" leads team "support"')).toContain('leads team');
    expect(conflictWords(400, 'x')).toBeUndefined();
  });
});

const key = (k: Partial<KeyView>): KeyView => ({ id: 'k', role: 'csm', name: 'k', lastFour: 'abcd', createdAt: null, source: 'api', ...k });

describe('keys', () => {
  it('sends a member only with a csm key, and no empty name', () => {
    expect(newKeyBody('csm', ' Sam ', 'sam')).toEqual({ role: 'csm', name: 'Sam', memberId: 'sam' });
    expect(newKeyBody('analyst', '', 'sam')).toEqual({ role: 'analyst' });
  });

  it('sorts admin keys first, then by name', () => {
    const sorted = sortKeys([
      key({ id: '1', role: 'analyst', name: 'a' }),
      key({ id: '2', role: 'csm', name: 'b' }),
      key({ id: '3', role: 'admin', name: 'z' }),
      key({ id: '4', role: 'csm', name: 'a' }),
    ]);
    expect(sorted.map((k) => k.id)).toEqual(['3', '4', '2', '1']);
  });

  it('knows the last admin key, masks keys and checks names', () => {
    const admin = key({ id: 'a', role: 'admin' });
    expect(isLastAdmin(admin, [admin, key({})])).toBe(true);
    expect(isLastAdmin(admin, [admin, key({ id: 'b', role: 'admin' })])).toBe(false);
    expect(maskedKey(key({ role: 'analyst', lastFour: 'x9Qe' }))).toBe('nk_…x9Qe');
    expect(nameError('Sam\n')).toBeDefined();
    expect(nameError('Sam (CSM)')).toBeUndefined();
  });
});
