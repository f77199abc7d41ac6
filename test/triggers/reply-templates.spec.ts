/**
 * A `reply` step's body is a Liquid template like a send's: validated when the trigger is deployed (the dispatcher's
 * Liquid, no file tags, no secrets), rendered when the run decides with the messaging lib's renderer (the same strict
 * Liquid, the same scope, the same bounds as the dispatcher's, synchronously), and a body that does not render is a
 * MessageSuppressed with reason `template-error`, as a send's is at the dispatcher. Given/when/then through
 * `simulateCustomer`, the deciders the reactor and the backtest run.
 */
import { enabledProgram, History, ofType, simulateCustomer, validateTrigger, type JourneyEvent } from '@journey/domain';
import { replyRenderer, TemplateRenderer, TRIGGER_VALIDATION, type TemplateScope } from '@journey/messaging';

const T0 = '2025-03-03T10:00:00Z';
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();
const data = (events: JourneyEvent[], type: string) => ofType(events, type as never).map((e) => e.data as Record<string, unknown>);

const definition = (body: string) => ({
  id: 'export-help',
  name: 'Export help',
  reentry: 'every',
  entry: { reply: { contains: ['export'] } },
  steps: [{ reply: { body } }],
});
const answering = (body: string) => enabledProgram(definition(body));
const refusals = (body: string) => {
  const v = validateTrigger(definition(body), TRIGGER_VALIDATION);
  return v.ok ? [] : v.errors.map((e) => `${e.path}: ${e.message}`);
};

/** The customer writes "how do I export?" (after an identify with `traits`), the trigger answers with `body`. */
function answer(body: string, traits: Record<string, unknown> = { name: 'Ada', plan: 'pro' }, render = replyRenderer()) {
  const h = new History('cus-42');
  h.identify(T0, traits);
  h.reply(at(1), 'how do I export?', { conversationId: 'conv-9', channel: 'email' });
  return simulateCustomer([answering(body)], h.events, undefined, { renderReply: render }).decided;
}

describe('a reply body is a Liquid template', () => {
  it('given traits, when the customer writes, then the answer in the thread is rendered for them', () => {
    const decided = answer(
      'Hi {{ customer.traits.name }}, here is how to export on {{ customer.traits.plan | upcase }}: Settings → Export.',
    );
    expect(data(decided, 'AgentReplied')).toMatchObject([
      { conversationId: 'conv-9', channel: 'email', automated: true, body: 'Hi Ada, here is how to export on PRO: Settings → Export.' },
    ]);
  });

  it('given an optional trait with a default, or an if, then a customer without it gets the fallback', () => {
    const decided = answer(
      'Hi {{ customer.traits.first_name | default: "there" }}{% if customer.traits.vip %} (VIP){% endif %}, {{ customer.id }}',
      {},
    );
    expect(data(decided, 'AgentReplied').map((d) => d.body)).toEqual(['Hi there, cus-42']);
  });

  it('given a trait holding markup, then it is written out, not rendered again', () => {
    const decided = answer('Hi {{ customer.traits.name }}', { name: '{{ customer.id }}' });
    expect(data(decided, 'AgentReplied').map((d) => d.body)).toEqual(['Hi {{ customer.id }}']);
  });

  it('given a missing variable, then no answer: MessageSuppressed, reason template-error, the error in its detail and guard', () => {
    const decided = answer('Hi {{ customer.traits.nickname }}');
    expect(ofType(decided, 'AgentReplied')).toEqual([]);
    const [suppressed] = data(decided, 'MessageSuppressed');
    expect(suppressed).toMatchObject({ reason: 'template-error', channel: 'email', triggerId: 'export-help', step: '0' });
    expect(suppressed.detail).toMatch(/^body: undefined variable: customer\.traits\.nickname/);
    expect(suppressed.guards).toEqual([{ guard: 'template', verdict: 'suppressed', detail: suppressed.detail }]);
    // the run goes on and ends (a send's template error does not stop its run either)
    expect(data(decided, 'TriggerRunExited')).toMatchObject([{ reason: 'completed' }]);
  });

  it('given an unknown filter, then deploying refuses it (naming the path); a body that got through anyway is a template-error', () => {
    expect(refusals('Hi {{ customer.traits.name | shout }}')).toEqual([
      expect.stringMatching(/^steps\[0\]\.reply\.body: not a valid template: undefined filter: shout/),
    ]);
    expect(data(answer('Hi {{ customer.traits.name | shout }}'), 'MessageSuppressed')).toMatchObject([
      { reason: 'template-error', detail: expect.stringContaining('undefined filter: shout') },
    ]);
  });

  it('given a tag that reads files, a secret or a parse error, then deploying refuses it', () => {
    for (const [body, message] of [
      ['{% include "secrets.txt" %}', /not a valid template: the "include" tag is not allowed/],
      ['{{ secrets.crm_token }}', /workspace secrets are only available in webhook steps/],
      ['Hi {{ customer.traits.name', /not a valid template/],
    ] as const) {
      expect(refusals(body)).toEqual([expect.stringMatching(message)]);
    }
    expect(refusals('Hi {{ customer.traits.name | default: "there" }}, {{ event.plan | default: "" }}')).toEqual([]);
  });

  it('given the higher-priority answer does not render, then it did not answer: a lower-priority trigger does', () => {
    const high = enabledProgram({ ...definition('Hi {{ customer.traits.nickname }}'), id: 'high', priority: 10 });
    const low = enabledProgram({ ...definition('We got your message.'), id: 'low' });
    const h = new History('cus-42');
    h.reply(T0, 'how do I export?');
    const { decided } = simulateCustomer([low, high], h.events, undefined, { renderReply: replyRenderer() });
    expect(data(decided, 'MessageSuppressed')).toMatchObject([{ triggerId: 'high', reason: 'template-error' }]);
    expect(data(decided, 'AgentReplied')).toMatchObject([{ triggerId: 'low', body: 'We got your message.' }]);
  });

  describe('over the bounds (the dispatcher’s: output size, allocations, render time), a template-error', () => {
    it('given an output longer than the limit, then suppressed', () => {
      const decided = answer('{% for i in (1..30000) %}0123456789{% endfor %}');
      expect(data(decided, 'MessageSuppressed')).toMatchObject([
        { reason: 'template-error', detail: expect.stringContaining('output limit exceeded (more than 262144 characters)') },
      ]);
    });

    it('given a range over the allocation budget, then suppressed', () => {
      const decided = answer('{% for i in (1..100000000) %}x{% endfor %}');
      expect(data(decided, 'MessageSuppressed')).toMatchObject([{ reason: 'template-error', detail: expect.stringContaining('memory') }]);
    });

    it('given a render longer than the time limit, then suppressed', () => {
      const slow = replyRenderer(new TemplateRenderer({ renderLimitMs: 1 }));
      const decided = answer('{% for i in (1..3000) %}{% for j in (1..300) %}{% endfor %}{% endfor %}', undefined, slow);
      expect(data(decided, 'MessageSuppressed')).toMatchObject([{ reason: 'template-error', detail: expect.stringContaining('limit') }]);
    });
  });
});

describe('the synchronous render is the dispatcher’s render', () => {
  // `big`: the output bound is met in 300 quick iterations (never the time bound first, whatever the machine's load)
  const scope: TemplateScope = {
    customer: { id: 'c1', traits: { name: 'Ada', tags: ['a', 'b'], n: 3 } },
    event: { plan: 'pro', big: 'x'.repeat(1000) },
  };
  const sources = [
    'plain text',
    'Hi {{ customer.traits.name }} on {{ event.plan }}',
    '{{ customer.traits.tags | join: ", " }} {{ customer.traits.n | plus: 2 }}',
    '{% assign x = customer.traits.name | downcase %}{{ x }}{% if event.plan == "pro" %}!{% endif %}',
    '{{ customer.traits.missing }}',
    '{{ customer.traits.name | nope }}',
    '{% for i in (1..300) %}{{ event.big }}{% endfor %}',
    '{{ customer.constructor }}',
  ];
  it('renders the same text, or fails with the same error, for every template', async () => {
    const templates = new TemplateRenderer();
    for (const body of sources) {
      const sync = (() => {
        try {
          return templates.renderSync({ body }, scope);
        } catch (e) {
          return (e as Error).message;
        }
      })();
      const async = await templates.render({ body }, scope).catch((e: Error) => e.message);
      expect({ body, sync }).toEqual({ body, sync: async });
    }
  });
});
