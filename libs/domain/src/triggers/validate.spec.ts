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
      'prority: unknown field; expected one of id, name, entry, steps, description, priority, key, reentry, maxEventAge, exit, guards',
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

  describe('replies, conversation steps and webhooks', () => {
    const onReply = (reply: unknown, steps: unknown[] = [{ tag: { tags: ['support'] } }]) => ({ ...valid, entry: { reply }, steps });
    const webhook = (w: Record<string, unknown>) => ({ ...valid, steps: [{ webhook: { url: 'https://crm.example.com/hooks', ...w } }] });

    it('given a reply entry on a channel, with words and a sentiment range, and the reply as a branch condition, then it is valid', () => {
      const doc = {
        ...valid,
        entry: { reply: { channel: ['inbox', 'email'], contains: ['refund', 'cancel my'], sentiment: { lt: -0.3 } } },
        steps: [
          { handoff: { team: 'support', priority: 'high' } },
          { branch: { if: { reply: { contains: 'thanks' } }, then: [{ resolve: {} }] } },
          { wait: { until: { reply: { sentiment: { gte: 0.5 } } }, timeout: '2d', onEvent: [{ reply: { body: 'Glad to help!' } }] } },
          { resolve: null },
        ],
      };
      expect(errorsOf(doc)).toEqual([]);
      expect(errorsOf(onReply({}))).toEqual([]);
    });

    it('given a bad reply signal, then every error names its path', () => {
      expect(errorsOf(onReply({ channel: 'sms', contains: ['ok', '  ', 3], sentiment: { lt: -2, above: 0 }, mood: 'sad' }))).toEqual([
        'entry.reply.mood: unknown field; expected one of channel, contains, sentiment',
        'entry.reply.channel: expected one of inbox, email, slack, api, got "sms"',
        'entry.reply.contains[1]: expected a word or phrase (letters or digits), got "  "',
        'entry.reply.contains[2]: expected a word or phrase (letters or digits), got 3',
        'entry.reply.sentiment.above: unknown field; expected one of lt, lte, gt, gte',
        'entry.reply.sentiment.lt: expected a number from -1 to 1, got -2',
      ]);
      expect(errorsOf(onReply({ sentiment: {} }))).toEqual([
        'entry.reply.sentiment: expected a comparison: one of lt, lte, gt, gte (a VADER score from -1 to 1)',
      ]);
    });

    it('given bad conversation steps, then every error names its path', () => {
      const doc = onReply({}, [
        { reply: { body: 'Hi {{ customer.traits.name }}' } },
        { reply: {} },
        { reply: { body: 'Your token: {{ secrets.crm_token }}' } },
        { tag: { tags: [] } },
        { tag: { tags: ['ok', 'not a tag!'] } },
        { handoff: { priority: 'asap' } },
        { handoff: { team: 'a team', priority: 'urgent' } },
        { resolve: { now: true } },
      ]);
      expect(errorsOf(doc)).toEqual([
        // steps[0]: a reply body is a Liquid template, as a send's
        'steps[1].reply.body: is required',
        'steps[2].reply.body: workspace secrets are only available in webhook steps, never in a message to the customer',
        'steps[3].tag.tags: expected at least one item',
        'steps[4].tag.tags[1]: expected a tag (letters, digits, "-", "_", ":" or "/", at most 64), got "not a tag!"',
        'steps[5].handoff.team: is required',
        'steps[5].handoff.priority: expected one of low, normal, high, urgent, got "asap"',
        'steps[6].handoff.team: expected a team id (letters, digits, "-" or "_", at most 64), got "a team"',
        'steps[7].resolve: expected {} (resolve takes no fields), got {"now":true}',
      ]);
    });

    it('given a webhook with a templated URL, headers naming secrets and a Liquid body, then it is valid', () => {
      expect(
        errorsOf(
          webhook({
            url: 'https://crm.example.com/contacts/{{ customer.id }}',
            method: 'PATCH',
            headers: {
              Authorization: 'Bearer {{ secrets.crm_token }}',
              'Content-Type': 'application/json',
              'X-Api-Key': '{{secrets.CRM_KEY}}',
            },
            body: '{"plan": "{{ customer.traits.plan }}", "signature": "{{ secrets.signing_key }}"}',
          }),
        ),
      ).toEqual([]);
      expect(errorsOf(webhook({ url: '{{ secrets.slack_webhook_url }}', body: '{"text": "hello"}' }))).toEqual([]);
      expect(errorsOf(webhook({ method: 'GET' }))).toEqual([]);
      expect(errorsOf(webhook({ body: 'our secrets. are {% if secrets.ok %}safe{% endif %}' }))).toEqual([]);
    });

    it('given a webhook holding a credential, a bad secret name, a bad URL or method, then it is refused at the path', () => {
      expect(
        errorsOf(
          webhook({
            method: 'FETCH',
            headers: {
              Authorization: 'Bearer sk_live_51H8xyz',
              'X-Auth-Token': 'abc123',
              'X-Trace': '{{ secrets.1bad }}',
              'Bad Header': 'x',
              'X-Split': 'a\r\nb',
            },
            body: '{{ secrets["crm token"] }}',
          }),
        ),
      ).toEqual([
        'steps[0].webhook.method: expected one of POST, PUT, PATCH, DELETE, GET, got "FETCH"',
        'steps[0].webhook.headers.Authorization: a credential header must name a workspace secret (e.g. "Bearer {{ secrets.crm_token }}"), never hold the credential itself',
        'steps[0].webhook.headers.X-Auth-Token: a credential header must name a workspace secret (e.g. "Bearer {{ secrets.crm_token }}"), never hold the credential itself',
        'steps[0].webhook.headers.X-Trace: secret names are letters, digits and "_" (starting with a letter, at most 64): {{ secrets.NAME }}, got "secrets.1bad"',
        'steps[0].webhook.headers.Bad Header: not a valid header name',
        'steps[0].webhook.headers.X-Split: a header value cannot hold a line break',
        'steps[0].webhook.body: secret names are letters, digits and "_" (starting with a letter, at most 64): {{ secrets.NAME }}, got "secrets[\\"crm token\\"]"',
      ]);
      expect(errorsOf(webhook({ headers: { 'X-Custom': 'sk_live_51H8xyzABCDEF' } }))).toEqual([
        'steps[0].webhook.headers.X-Custom: looks like a literal credential (an API key or token): put it in a workspace secret and use {{ secrets.NAME }}',
      ]);
      expect(errorsOf(webhook({ url: 'ftp://example.com' }))).toEqual([
        'steps[0].webhook.url: expected an http:// or https:// URL, or a secret holding one ({{ secrets.NAME }}), got "ftp://example.com"',
      ]);
      expect(errorsOf(webhook({ url: 'https://admin:hunter2@crm.example.com/' }))).toEqual([
        'steps[0].webhook.url: credentials in the URL are not allowed: put them in a workspace secret and a header ({{ secrets.NAME }})',
      ]);
      expect(errorsOf(webhook({ url: undefined }))).toEqual(['steps[0].webhook.url: is required']);
    });

    it('given a secret in a message to the customer, then it is refused', () => {
      expect(errorsOf({ ...valid, steps: [{ send: { channel: 'email', body: 'Your key: {{ secrets.crm_token }}' } }] })).toEqual([
        'steps[0].send.body: workspace secrets are only available in webhook steps, never in a message to the customer',
      ]);
    });

    it('given the engine ports, then webhook templates are checked too', () => {
      const ports = { checkTemplate: (source: string) => (source.includes('{%') ? 'unknown tag' : undefined) };
      const r = validateTrigger(webhook({ body: '{% nope %}' }), ports);
      expect(r.ok ? [] : r.errors.map(formatValidationError)).toEqual(['steps[0].webhook.body: not a valid template: unknown tag']);
    });

    it('given reentry every, a reply trigger that tags, and an entry on its own tag event, then the cycle is refused', () => {
      const doc = { ...valid, reentry: 'every', entry: { event: 'ConversationTagged' }, steps: [{ tag: { tags: ['again'] } }] };
      expect(errorsOf(doc)).toEqual([
        'steps[0].tag: emits "ConversationTagged", which starts this trigger again (reentry: every): a trigger cannot re-trigger itself',
      ]);
    });
  });
});
