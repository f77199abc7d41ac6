import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatValidationError, parseTrigger, simulateCustomer, type JourneyEvent, type TriggerDefinition } from '@journey/domain';
import { enabledProgram, History, ofType } from '../../libs/domain/src/triggers/testing';

const dir = join(__dirname, '../../triggers/library');
const library = new Map<string, TriggerDefinition>();
for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml'))) {
  const parsed = parseTrigger(readFileSync(join(dir, file), 'utf8'));
  if (!parsed.ok) throw new Error(`${file}: ${parsed.errors.map(formatValidationError).join('; ')}`);
  library.set(file.replace(/\.yaml$/, ''), parsed.definition);
}
const program = (id: string) => enabledProgram(library.get(id));
const sends = (events: JourneyEvent[]) =>
  ofType(events, 'MessageScheduled').map(
    (e) =>
      `${e.metadata.occurredAt.slice(0, 10)} ${e.data.channel}: ${(e.data.template as { subject?: string; body: string }).subject ?? (e.data.template as { body: string }).body}`,
  );
const tasks = (events: JourneyEvent[]) =>
  ofType(events, 'CsmTaskOpened').map((e) => `${e.metadata.occurredAt.slice(0, 10)} ${e.data.title} (${e.data.priority})`);

describe('trigger library (triggers/library/*.yaml) played through the pure deciders', () => {
  it('every library trigger is valid and named after its file', () => {
    expect([...library.keys()].sort()).toEqual([
      'onboarding-activation-nudge',
      'onboarding-stalled',
      'onboarding-welcome',
      'renewal-at-risk',
      'renewal-sequence',
      'support-reply-triage',
      'usage-drop',
      'usage-feature-adoption',
      'usage-inactivity',
    ]);
    for (const [file, def] of library) expect(def.id).toBe(file);
  });

  describe('onboarding', () => {
    const all = () => ['onboarding-welcome', 'onboarding-activation-nudge', 'onboarding-stalled'].map(program);

    it('a customer who signs up at night, never activates and goes quiet: welcome (deferred past quiet hours), nudges, then a CSM task', () => {
      const h = new History('ada');
      h.identify('2025-03-03T22:30:00Z', { name: 'Ada', timezone: 'Europe/London' });
      h.stage('2025-03-03T22:30:01Z', null, 'onboarding');
      h.track('2025-03-04T09:00:00Z', 'Logged In');
      const { decided } = simulateCustomer(all(), h.events, new Date('2025-03-20T00:00:00Z'));
      expect(sends(decided)).toEqual([
        "2025-03-03 email: Welcome to Acme, {{ customer.traits.name | default: 'there' }}!",
        '2025-03-04 inbox: Tip: invite your team from Settings > Members.',
        '2025-03-06 email: Need a hand getting started?',
        '2025-03-08 inbox: Create your first project in 2 minutes: open Projects > New.',
      ]);
      const welcome = ofType(decided, 'MessageScheduled')[0];
      expect(welcome.data.notBefore).toBe('2025-03-04T08:00:00.000Z');
      expect(tasks(decided)).toEqual(['2025-03-11 Onboarding stalled: reach out (high)']);
    });

    it('a customer who activates on day 2 (the event arriving late, after a reconnect) gets no nudge, and the stalled task is closed when they create a project', () => {
      const h = new History('bob');
      h.identify('2025-03-03T10:00:00Z', { name: 'Bob' });
      h.stage('2025-03-03T10:00:01Z', null, 'onboarding');
      h.track('2025-03-05T10:00:00Z', 'Activated', {}, '2025-03-05T18:00:00Z');
      h.track('2025-03-20T10:00:00Z', 'Project Created');
      const { decided } = simulateCustomer(all(), h.events, new Date('2025-03-25T00:00:00Z'));
      expect(sends(decided).map((s) => s.slice(11))).toEqual([
        "email: Welcome to Acme, {{ customer.traits.name | default: 'there' }}!",
        'inbox: Tip: invite your team from Settings > Members.',
      ]);
      expect(tasks(decided)).toEqual(['2025-03-12 Onboarding stalled: reach out (high)']);
      expect(ofType(decided, 'CsmTaskClosed').map((e) => e.data.resolution)).toEqual(['resolved by Project Created']);
    });

    it('an unsubscribed customer is never nudged; the welcome is suppressed for consent', () => {
      const h = new History('cy');
      h.identify('2025-03-03T10:00:00Z', { unsubscribedTopics: ['onboarding'] });
      const { decided } = simulateCustomer(all(), h.events, new Date('2025-03-10T00:00:00Z'));
      expect(sends(decided)).toEqual([]);
      expect(ofType(decided, 'MessageSuppressed').map((e) => e.data.reason)).toEqual(['consent', 'consent', 'consent', 'consent']);
    });
  });

  describe('usage', () => {
    it('inactivity: an active customer quiet for 14 days gets one win-back; activity pushes the deadline without a timer per activity', () => {
      const h = new History('dee');
      h.stage('2025-03-01T10:00:00Z', 'onboarding', 'active');
      h.track('2025-03-01T10:00:00Z', 'Logged In');
      for (let day = 2; day <= 10; day++) h.track(`2025-03-${String(day).padStart(2, '0')}T10:00:00Z`, 'Logged In');
      const { decided } = simulateCustomer([program('usage-inactivity')], h.events, new Date('2025-04-10T00:00:00Z'));
      expect(sends(decided)).toEqual(['2025-03-24 email: We miss you']);
      // armed at the first login; the later logins leave it; when it fires early it re-arms at the last login + 14 days
      expect(ofType(decided, 'TimerScheduled').map((e) => e.data.dueAt)).toEqual(['2025-03-15T10:00:00.000Z', '2025-03-24T10:00:00.000Z']);
      expect(ofType(decided, 'TimerCancelled')).toEqual([]);
    });

    it("usage drop: logins fall to a fraction of the customer's own baseline -> at-risk and a CSM task; the stage change chains into the at-risk renewal task", () => {
      const h = new History('eve');
      h.identify('2025-01-01T00:00:00Z', { renewal_date: '2025-05-15' });
      for (let day = 1; day <= 28; day++) h.track(`2025-02-${String(day).padStart(2, '0')}T09:00:00Z`, 'Logged In');
      h.track('2025-03-08T09:00:00Z', 'Logged In');
      const { decided } = simulateCustomer([program('usage-drop'), program('renewal-at-risk')], h.events);
      expect(ofType(decided, 'StageChanged').map((e) => e.data.to)).toEqual(['at-risk']);
      expect(tasks(decided)).toEqual([
        '2025-03-08 Usage dropped by half: check in (normal)',
        '2025-03-08 At-risk customer with an upcoming renewal (urgent)',
      ]);
      // steady usage does not trigger it
      const steady = new History('fay');
      for (let day = 1; day <= 35; day++) steady.track(new Date(Date.UTC(2025, 1, day, 9)).toISOString(), 'Logged In');
      expect(simulateCustomer([program('usage-drop')], steady.events).decided).toEqual([]);
    });

    it('feature adoption: the third report in 14 days triggers the A/B tip once; creating a dashboard converts', () => {
      const outcomes = new Map<string, string[]>();
      for (let i = 0; i < 40; i++) {
        const h = new History(`cust-${i}`);
        h.track('2025-03-01T10:00:00Z', 'Report Created');
        h.track('2025-03-05T10:00:00Z', 'Report Created');
        h.track('2025-03-09T10:00:00Z', 'Report Created');
        h.track('2025-03-10T10:00:00Z', 'Report Created');
        h.track('2025-03-11T10:00:00Z', 'Dashboard Created');
        const { decided } = simulateCustomer([program('usage-feature-adoption')], h.events, new Date('2025-04-01T00:00:00Z'));
        const variant = String(ofType(decided, 'TriggerRunStepEntered').find((e) => e.data.kind === 'split')?.data.variant);
        outcomes.set(variant, [
          ...(outcomes.get(variant) ?? []),
          JSON.stringify([
            ofType(decided, 'TriggerMatched').length,
            sends(decided).map((s) => s.split(':')[0]),
            ofType(decided, 'TriggerRunExited').map((e) => e.data.reason),
          ]),
        ]);
      }
      expect(new Set(outcomes.get('email'))).toEqual(new Set([JSON.stringify([1, ['2025-03-09 email'], ['converted']])]));
      expect(new Set(outcomes.get('inbox'))).toEqual(new Set([JSON.stringify([1, ['2025-03-09 inbox'], ['converted']])]));
      expect(outcomes.get('holdout')?.every((o) => o === JSON.stringify([1, [], ['holdout']]))).toBe(true);
    });
  });

  describe('support', () => {
    const triage = () => [program('support-reply-triage')];
    const actions = (events: JourneyEvent[]) =>
      events
        .filter((e) => e.type.startsWith('Conversation') || e.type === 'AgentReplied' || e.type === 'MessageSuppressed')
        .map((e) => {
          const d = e.data as Record<string, unknown>;
          if (e.type === 'ConversationAssigned') return `${d.conversationId} handed to ${d.team} (${d.priority}, ${d.reason})`;
          if (e.type === 'ConversationTagged') return `${d.conversationId} tagged ${(d.tags as string[]).join(',')}`;
          if (e.type === 'AgentReplied') return `${d.conversationId} automated reply: ${d.body}`;
          if (e.type === 'ConversationResolved') return `${d.conversationId} resolved${d.automated ? ' by automation' : ''}`;
          return `${e.type} ${d.reason}`;
        });

    it('an unhappy reply goes to support at high priority; while the team holds it, a thank-you is left to the person', () => {
      const h = new History('hal');
      h.reply('2025-03-03T10:00:00Z', 'The export keeps failing and we lost data. Unacceptable.', {
        conversationId: 'c1',
        sentiment: -0.82,
      });
      h.reply('2025-03-03T11:00:00Z', 'Thanks, that fixed it!', { conversationId: 'c1', sentiment: 0.49 });
      expect(actions(simulateCustomer(triage(), h.events).decided)).toEqual([
        'c1 tagged unhappy',
        'c1 handed to support (high, queued)',
        'MessageSuppressed held-by-person',
      ]);
    });

    it('a thank-you in a conversation nobody holds is answered and resolved; a neutral question is left alone', () => {
      const h = new History('ivy');
      h.reply('2025-03-03T10:00:00Z', 'How do I export my invoices?', { conversationId: 'c1', sentiment: 0 });
      h.reply('2025-03-03T10:05:00Z', 'Found it, thank you!', { conversationId: 'c1', sentiment: 0.42 });
      expect(actions(simulateCustomer(triage(), h.events).decided)).toEqual([
        'c1 automated reply: Glad we could help! Just reply here if anything else comes up.',
        'c1 resolved by automation',
      ]);
    });
  });

  describe('renewal', () => {
    it('90/60/30-day sequence at 09:00 local time, moving the customer to the renewal stage; a renewal stops it', () => {
      const h = new History('gus');
      h.identify('2025-01-10T12:00:00Z', { timezone: 'America/Los_Angeles', renewal_date: '2025-07-01' });
      const full = simulateCustomer([program('renewal-sequence')], h.events, new Date('2025-08-01T00:00:00Z')).decided;
      expect(
        ofType(full, 'MessageScheduled').map((e) => `${e.metadata.occurredAt} ${(e.data.template as { subject: string }).subject}`),
      ).toEqual([
        '2025-04-02T16:00:00.000Z Your renewal is in 90 days',
        '2025-05-02T16:00:00.000Z Your renewal is in 60 days',
        '2025-06-01T16:00:00.000Z Your renewal is in 30 days',
      ]);
      expect(ofType(full, 'StageChanged').map((e) => e.data.to)).toEqual(['renewal']);

      h.track('2025-04-20T10:00:00Z', 'Subscription Renewed');
      const renewed = simulateCustomer([program('renewal-sequence')], h.events, new Date('2025-08-01T00:00:00Z')).decided;
      expect(sends(renewed)).toEqual(['2025-04-02 email: Your renewal is in 90 days']);
      expect(ofType(renewed, 'TriggerRunExited').map((e) => e.data.reason)).toEqual(['renewed']);
    });

    it('at-risk renewal: entering at-risk with a renewal within 90 days opens an urgent task, closed when the customer leaves at-risk', () => {
      const h = new History('hal');
      h.identify('2025-03-01T00:00:00Z', { renewal_date: '2025-05-01' });
      h.stage('2025-03-02T00:00:00Z', 'active', 'at-risk');
      h.stage('2025-03-09T00:00:00Z', 'at-risk', 'active');
      const { decided } = simulateCustomer([program('renewal-at-risk')], h.events);
      expect(tasks(decided)).toEqual(['2025-03-02 At-risk customer with an upcoming renewal (urgent)']);
      expect(ofType(decided, 'CsmTaskClosed').map((e) => e.data.resolution)).toEqual(['resolved by StageChanged']);
      const far = new History('ivy');
      far.identify('2025-03-01T00:00:00Z', { renewal_date: '2026-01-01' });
      far.stage('2025-03-02T00:00:00Z', 'active', 'at-risk');
      expect(simulateCustomer([program('renewal-at-risk')], far.events).decided).toEqual([]);
    });
  });

  it('a replay keeps only the history the triggers can still read, and decides exactly as with all of it', () => {
    // Two years of a customer with bursts, lulls, late events and a stage change or two, through the whole library.
    let seed = 11;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 0x7fffffff;
    const names = [
      'Logged In',
      'Logged In',
      'Feature Used',
      'Report Created',
      'Dashboard Created',
      'Project Created',
      'Activated',
      'Subscription Renewed',
    ];
    const programs = [...library.keys()].map(program);
    for (const customer of ['p1', 'p2', 'p3']) {
      const h = new History(customer);
      const start = Date.UTC(2024, 0, 1);
      h.identify(new Date(start).toISOString(), { name: customer, renewal_date: '2025-06-01', timezone: 'Europe/Paris' });
      h.stage(new Date(start + 1000).toISOString(), null, 'onboarding');
      let t = start + 3_600_000;
      for (let i = 0; i < 1500; i++) {
        t += rnd() < 0.05 ? 20 * 86_400_000 * rnd() : 86_400_000 * rnd();
        const at = new Date(t).toISOString();
        const late = rnd() < 0.05 ? new Date(t + 86_400_000 * 2 * rnd()).toISOString() : undefined;
        if (i === 40) h.stage(at, 'onboarding', 'active');
        else h.track(at, names[Math.floor(rnd() * names.length)], { count: i % 4 }, late);
      }
      const until = new Date(t + 120 * 86_400_000);
      const pruned = simulateCustomer(programs, h.events, until);
      const kept = simulateCustomer(programs, h.events, until, { keepHistory: true });
      expect(pruned.decided.length).toBeGreaterThan(10);
      expect(pruned.decided).toEqual(kept.decided);
    }
    // what the library reads back: absent (all of Activated), windows of 14 days, usage drop over 5 weeks of logins
    const usage = program('usage-drop').history;
    expect([...usage.byName]).toEqual([['Logged In', 35 * 86_400_000]]);
    expect([...program('onboarding-activation-nudge').history.byName]).toEqual([['Activated', Infinity]]);
  });

  it('hostile trait and property values (dates out of range, odd types, unknown or oddly spelled zones) never make a library trigger throw', () => {
    const programs = [...library.keys()].map(program);
    const values = [
      1e300,
      -1e300,
      Number.MAX_VALUE,
      -0,
      '',
      'next tuesday',
      '+275760-09-13T00:00:00Z',
      '-271821-04-20T00:00:00Z',
      '9999-12-31',
      '0000-01-01',
      '2025-02-30',
      null,
      true,
      [],
      [1, 'x'],
      { a: { b: 1 } },
    ];
    const zones = ['Mars/Olympus', 'europe/paris', 'Etc/GMT+14', '+05:30', 42, null];
    for (const [i, value] of values.entries()) {
      const h = new History(`hostile-${i}`);
      h.identify('2025-01-01T00:00:00Z', {
        renewal_date: value,
        timezone: zones[i % zones.length],
        features_used: value,
        unsubscribed: value,
        name: value,
      });
      h.track('2025-01-02T00:00:00Z', 'Logged In', { count: value, plan: value });
      h.stage('2025-01-03T00:00:00Z', null, 'at-risk');
      h.traits('2025-01-04T00:00:00Z', { renewal_date: values[(i + 1) % values.length] });
      expect(() => simulateCustomer(programs, h.events, new Date('2026-01-01T00:00:00Z'))).not.toThrow();
    }
  });
});
