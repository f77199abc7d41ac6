import { formatValidationError, parseTrigger, validateTrigger } from './validate';

const valid = {
  id: 'activation-nudge',
  name: 'Activation nudge',
  entry: { absent: { event: 'Activated', for: '3d', after: { event: 'CustomerIdentified' } } },
  steps: [{ send: { channel: 'email', subject: 'Need a hand?', body: 'Hi {{ traits.name }}' } }],
};

const errorsOf = (doc: unknown) => {
  const r = validateTrigger(doc);
  return r.ok ? [] : r.errors.map(formatValidationError);
};

describe('validateTrigger', () => {
  it('given a valid document, then it returns the typed definition', () => {
    const r = validateTrigger(valid);
    expect(r.ok && r.definition.id).toBe('activation-nudge');
  });

  it('given a bad wait duration, then the error names the path and what was expected', () => {
    const doc = { ...valid, steps: [valid.steps[0], { wait: { duration: '1d' } }, { wait: { duration: 'soon' } }] };
    expect(errorsOf(doc)).toEqual(['steps[2].wait.duration: expected a duration like "3d", got "soon"']);
  });

  it('reports every error, with nested paths', () => {
    const doc = {
      id: 'bad id!',
      entry: {
        all: [
          { event: 'Login', where: { plan: { gt: 'x' } } },
          { inactive: { for: '3d' } },
          { absent: { event: 'A', for: '1d', after: { event: 'B' } } },
        ],
      },
      steps: [
        { branch: { if: { not: { inactive: { for: '1d' } } }, then: [{ send: { channel: 'email' } }] } },
        { sned: {} },
        { split: { holdout: 120, variants: [{ name: 'a', weight: 1, steps: [{ task: { title: 'Call', priority: 'asap' } }] }] } },
      ],
      guards: { quietHours: { start: '9pm', end: '08:00' }, frequencyCaps: [{ max: 1, per: '1d', scope: 'planet' }] },
      reentry: 'sometimes',
    };
    expect(errorsOf(doc)).toEqual([
      'name: is required',
      'id: expected letters, digits, "-" or "_" (at most 64), got "bad id!"',
      'reentry: expected "once", "every" or { oncePer: "30d" }, got "sometimes"',
      'entry.all[0].where.plan.gt: expected a number, got "x"',
      'entry.all[2]: at most one temporal signal (absent, inactive, date) per entry',
      'steps[0].branch.if.not: "inactive" is a temporal signal: only allowed as the entry or directly inside the entry\'s "all"',
      'steps[0].branch.then[0].send.body: is required',
      'steps[1]: expected a step with exactly one of wait, branch, split, send, task, set, emit, exit, reply, tag, handoff, resolve, webhook, got ["sned"]',
      'steps[2].split.holdout: expected a number from 0 to 100, got 120',
      'steps[2].split.variants[0].steps[0].task.priority: expected one of low, normal, high, urgent, got "asap"',
      'guards.frequencyCaps[0].scope: expected one of customer, channel, trigger, got "planet"',
      'guards.quietHours.start: expected a local time like "21:00", got "9pm"',
    ]);
  });

  it('rejects unknown fields, naming the allowed ones', () => {
    expect(errorsOf({ ...valid, prority: 3 })).toEqual([
      'prority: unknown field; expected one of id, name, entry, steps, description, priority, reentry, maxEventAge, exit, guards',
    ]);
  });

  it('rejects a date signal without a trait or a property, and a signed duration where none is allowed', () => {
    expect(errorsOf({ ...valid, entry: { date: { offset: '-30d' } }, steps: [{ wait: { duration: '-1d' } }] })).toEqual([
      'entry.date: expected either "trait" or "event" + "property"',
      'steps[0].wait.duration: expected a duration like "3d", got "-1d"',
    ]);
  });

  it('given a duration beyond 10 years in any duration field, then every one is an error naming its path (3650d itself is valid)', () => {
    const long = '999999999999d';
    const doc = {
      ...valid,
      maxEventAge: long,
      reentry: { oncePer: '3651d' },
      entry: {
        all: [
          { absent: { event: 'A', for: long, after: { event: 'B' } } },
          { count: { event: 'Login', within: long, gte: 1 } },
          { traits: { renewal_date: { after: '-522w', before: '+3650d' } } },
        ],
      },
      exit: [
        { when: { sum: { event: 'Paid', property: 'amount', within: '87601h', gt: 1 } } },
        { when: { usageDrop: { window: long, baseline: long, below: 0.5 } } },
      ],
      steps: [
        { wait: { duration: long } },
        { wait: { until: { event: 'Replied' }, timeout: long } },
        { task: { title: 'Call', due: long } },
        { wait: { duration: '3650d' } },
      ],
      guards: { frequencyCaps: [{ max: 1, per: long, scope: 'customer' }] },
    };
    const tooLong = (path: string) =>
      `${path}: expected a duration of at most 3650d (10 years), got ${JSON.stringify(path.endsWith('oncePer') ? '3651d' : path.includes('sum') ? '87601h' : long)}`;
    expect(errorsOf(doc)).toEqual([
      tooLong('maxEventAge'),
      tooLong('reentry.oncePer'),
      tooLong('entry.all[0].absent.for'),
      tooLong('entry.all[1].count.within'),
      'entry.all[2].traits.renewal_date.after: expected an offset from now of at most 3650d (10 years), got "-522w"',
      tooLong('steps[0].wait.duration'),
      tooLong('steps[1].wait.timeout'),
      tooLong('steps[2].task.due'),
      tooLong('exit[0].when.sum.within'),
      tooLong('exit[1].when.usageDrop.window'),
      tooLong('exit[1].when.usageDrop.baseline'),
      tooLong('guards.frequencyCaps[0].per'),
    ]);
    expect(errorsOf({ ...valid, entry: { inactive: { for: long } } })).toEqual([tooLong('entry.inactive.for')]);
    expect(errorsOf({ ...valid, entry: { date: { trait: 'renewal_date', offset: `-${long}` } } })).toEqual([
      `entry.date.offset: expected a duration of at most 3650d (10 years), got "-${long}"`,
    ]);
  });

  it('given a filter date bound that is not an ISO date in years 0000 to 9999, then it is an error naming its path', () => {
    for (const bound of ['+275760-09-13', '10000-01-01', '2025-02-30', 'next tuesday'])
      expect(errorsOf({ ...valid, entry: { traits: { renewal_date: { before: bound } } } })).toEqual([
        `entry.traits.renewal_date.before: expected an ISO date (years 0000 to 9999) or an offset from now like "+90d", got ${JSON.stringify(bound)}`,
      ]);
    expect(errorsOf({ ...valid, entry: { traits: { renewal_date: { before: '2030-01-01', after: '2025-01-01T00:00:00Z' } } } })).toEqual(
      [],
    );
  });

  it('parses YAML and JSON alike, and reports a syntax error as such', () => {
    const yaml = `
id: activation-nudge
name: Activation nudge
entry:
  absent: { event: Activated, for: 3d, after: { event: CustomerIdentified } }
steps:
  - send: { channel: email, subject: "Need a hand?", body: "Hi {{ traits.name }}" }
`;
    const fromYaml = parseTrigger(yaml);
    const fromJson = parseTrigger(JSON.stringify(valid));
    expect(fromYaml.ok && fromYaml.definition).toEqual(valid);
    expect(fromJson.ok && fromJson.definition).toEqual(valid);
    const broken = parseTrigger('id: [unclosed');
    expect(broken.ok).toBe(false);
    expect(!broken.ok && broken.errors[0].message).toMatch(/^not valid YAML\/JSON/);
  });

  describe('a trigger that re-triggers itself', () => {
    const loop = (reentry: unknown) => ({
      id: 'loop',
      name: 'Loop',
      reentry,
      entry: { any: [{ event: 'Ping' }, { event: 'Other' }] },
      steps: [{ branch: { if: { traits: { vip: true } }, then: [{ emit: { event: 'Ping' } }] } }],
    });

    it('given reentry every and an emit of its own entry event, then it is refused at the emit step', () => {
      expect(errorsOf(loop('every'))).toEqual([
        'steps[0].branch.then[0].emit.event: emits "Ping", which starts this trigger again (reentry: every): a trigger cannot re-trigger itself',
      ]);
    });

    it('given reentry once or oncePer, then it ends on its own and is accepted', () => {
      expect(errorsOf(loop('once'))).toEqual([]);
      expect(errorsOf(loop({ oncePer: '1d' }))).toEqual([]);
    });
  });

  describe('with the ports the engine passes (known channels, a template checker)', () => {
    const ports = { channels: ['email', 'inbox'], checkTemplate: (source: string) => (source.includes('{%') ? 'unknown tag' : undefined) };
    const withSend = (send: Record<string, unknown>) => ({ ...valid, steps: [{ send: { channel: 'email', body: 'Hi', ...send } }] });

    it('given an unknown channel, then it is an error naming the path', () => {
      const r = validateTrigger(withSend({ channel: 'sms' }), ports);
      expect(r.ok ? [] : r.errors.map(formatValidationError)).toEqual([
        'steps[0].send.channel: unknown channel "sms"; expected one of email, inbox',
      ]);
    });

    it('given a body or subject the checker refuses, then it is an error naming the path', () => {
      const r = validateTrigger(withSend({ subject: '{% nope %}', body: '{% nope %}' }), ports);
      expect(r.ok ? [] : r.errors.map(formatValidationError)).toEqual([
        'steps[0].send.body: not a valid template: unknown tag',
        'steps[0].send.subject: not a valid template: unknown tag',
      ]);
    });

    it('given good channels and templates, then it is valid', () => {
      expect(validateTrigger(withSend({ channel: 'inbox', subject: 'Hello {{ customer.traits.name }}' }), ports).ok).toBe(true);
    });
  });
});
