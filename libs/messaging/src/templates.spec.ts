import { TemplateError, TemplateRenderer, type TemplateScope } from './templates';

const scope: TemplateScope = { customer: { id: 'cust-1', traits: { name: 'Ann', plan: 'pro', seats: 3 } }, event: { feature: 'reports', count: 2 } };

describe('TemplateRenderer (Liquid)', () => {
  const renderer = new TemplateRenderer();

  it('renders subject and body with the customer and the causing event in scope', async () => {
    const rendered = await renderer.render(
      { subject: 'Welcome {{ customer.traits.name }}', body: 'Hi {{ customer.traits.name | upcase }} ({{ customer.id }}): you used {{ event.feature }} {{ event.count }} times on {{ customer.traits.plan }}.' },
      scope,
    );
    expect(rendered).toEqual({ subject: 'Welcome Ann', body: 'Hi ANN (cust-1): you used reports 2 times on pro.' });
  });

  it('leaves the subject out when the template has none', async () => {
    expect(await renderer.render({ body: '{% if customer.traits.seats > 2 %}big{% else %}small{% endif %}' }, scope)).toEqual({ body: 'big' });
  });

  it('allows optional values through default and if', async () => {
    const rendered = await renderer.render({ body: 'Hi {{ customer.traits.nickname | default: "there" }}{% if customer.traits.company %} from {{ customer.traits.company }}{% endif %}' }, scope);
    expect(rendered.body).toBe('Hi there');
  });

  it.each([
    ['a missing variable', { body: 'Hi {{ customer.traits.firstName }}' }, /body: undefined variable: customer.traits.firstName/],
    ['an unknown filter', { body: 'Hi {{ customer.traits.name | shout }}' }, /body: undefined filter: shout/],
    ['a syntax error', { body: 'Hi {{ customer.traits.name ' }, /body: .*not closed/],
    ['an error in the subject', { subject: '{% if %}', body: 'ok' }, /subject: /],
  ])('rejects %s with a TemplateError naming the part', async (_, template, message) => {
    const attempt = renderer.render(template, scope);
    await expect(attempt).rejects.toBeInstanceOf(TemplateError);
    await expect(attempt).rejects.toThrow(message);
  });

  it('caches parsed templates, bounded, and renders the same result from the cache', async () => {
    const small = new TemplateRenderer(2);
    const t = { body: 'Hi {{ customer.traits.name }}' };
    expect((await small.render(t, scope)).body).toBe('Hi Ann');
    expect((await small.render(t, { ...scope, customer: { id: 'c2', traits: { name: 'Bo' } } })).body).toBe('Hi Bo');
    expect(small.cachedTemplates).toBe(1);
    await small.render({ body: 'a' }, scope);
    await small.render({ body: 'b' }, scope);
    expect(small.cachedTemplates).toBe(2);
  });
});
