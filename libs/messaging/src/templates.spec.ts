import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TemplateError, TemplateRenderer, type TemplateScope } from './templates';

const scope: TemplateScope = {
  customer: { id: 'cust-1', traits: { name: 'Ann', plan: 'pro', seats: 3 } },
  event: { feature: 'reports', count: 2 },
};

describe('TemplateRenderer (Liquid)', () => {
  const renderer = new TemplateRenderer();

  it('renders subject and body with the customer and the causing event in scope', async () => {
    const rendered = await renderer.render(
      {
        subject: 'Welcome {{ customer.traits.name }}',
        body: 'Hi {{ customer.traits.name | upcase }} ({{ customer.id }}): you used {{ event.feature }} {{ event.count }} times on {{ customer.traits.plan }}.',
      },
      scope,
    );
    expect(rendered).toEqual({ subject: 'Welcome Ann', body: 'Hi ANN (cust-1): you used reports 2 times on pro.' });
  });

  it('leaves the subject out when the template has none', async () => {
    expect(await renderer.render({ body: '{% if customer.traits.seats > 2 %}big{% else %}small{% endif %}' }, scope)).toEqual({
      body: 'big',
    });
  });

  it('allows optional values through default and if', async () => {
    const rendered = await renderer.render(
      {
        body: 'Hi {{ customer.traits.nickname | default: "there" }}{% if customer.traits.company %} from {{ customer.traits.company }}{% endif %}',
      },
      scope,
    );
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
    const small = new TemplateRenderer({ cacheSize: 2 });
    const t = { body: 'Hi {{ customer.traits.name }}' };
    expect((await small.render(t, scope)).body).toBe('Hi Ann');
    expect((await small.render(t, { ...scope, customer: { id: 'c2', traits: { name: 'Bo' } } })).body).toBe('Hi Bo');
    expect(small.cachedTemplates).toBe(1);
    await small.render({ body: 'a' }, scope);
    await small.render({ body: 'b' }, scope);
    expect(small.cachedTemplates).toBe(2);
  });
});

describe('TemplateRenderer safety (templates are written by API users)', () => {
  const renderer = new TemplateRenderer();
  const secret = 'admin-key-that-must-not-leak';
  let cwd: string;
  let dir: string;

  beforeAll(() => {
    // A real file where liquidjs looks by default (the working directory), as in a deployment's data directory.
    cwd = process.cwd();
    dir = mkdtempSync(join(tmpdir(), 'templates-'));
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'keys.json'), JSON.stringify({ admin: secret }));
    writeFileSync(join(dir, 'data', 'keys.liquid'), secret);
    process.chdir(dir);
  });

  afterAll(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ["{% include 'data/keys.json' %}", 'include'],
    [`{% include '${'DIR'}/data/keys.json' %}`, 'include'],
    ["{% render 'data/keys.json' %}", 'render'],
    ["{% layout 'data/keys' %}x", 'layout'],
    ['{% include customer.traits.file %}', 'include'],
    ["{% liquid\n  include 'data/keys.json'\n%}", 'include'],
  ])('refuses %s without reading the file', async (source, tag) => {
    const body = source.replace('DIR', dir);
    const attempt = renderer.render({ body }, { ...scope, customer: { id: 'c', traits: { file: 'data/keys.json' } } });
    await expect(attempt).rejects.toBeInstanceOf(TemplateError);
    await expect(attempt).rejects.toThrow(new RegExp(`body: .*the "${tag}" tag is not allowed: templates cannot read files`));
    await expect(attempt).rejects.not.toThrow(secret);
  });

  it('stops nested loops over large ranges at a bound (time or allocations)', async () => {
    const attempt = renderer.render({ body: '{% for a in (1..100000) %}{% for b in (1..100000) %}{% endfor %}{% endfor %}' }, scope);
    await expect(attempt).rejects.toThrow(/body: .*(template render|memory alloc) limit exceeded/);
  });

  it('refuses a range larger than the allocation bound before looping', async () => {
    const attempt = renderer.render({ body: '{% for a in (1..100000000) %}{% endfor %}' }, scope);
    await expect(attempt).rejects.toThrow(/body: .*memory alloc limit exceeded/);
  });

  it('stops a render that takes longer than its time bound', async () => {
    const quick = new TemplateRenderer({ renderLimitMs: 20 });
    const attempt = quick.render(
      { body: '{% for a in (1..2000) %}{% for b in (1..2000) %}{% if b == 0 %}{% endif %}{% endfor %}{% endfor %}' },
      scope,
    );
    await expect(attempt).rejects.toThrow(/body: .*template render limit exceeded/);
  });

  it('refuses output over the size bound, and renders up to it', async () => {
    const small = new TemplateRenderer({ maxOutputChars: 100 });
    await expect(small.render({ body: '{% for a in (1..100) %}x{% endfor %}' }, scope)).resolves.toEqual({ body: 'x'.repeat(100) });
    await expect(small.render({ body: '{% for a in (1..101) %}x{% endfor %}' }, scope)).rejects.toThrow(
      /body: .*output limit exceeded \(more than 100 characters\)/,
    );
    // the default output bound, with time to reach it on a loaded machine (the time bound is the test above)
    const patient = new TemplateRenderer({ renderLimitMs: 60_000 });
    await expect(patient.render({ body: '{% for a in (1..1000000) %}xxxxxxxxxx{% endfor %}' }, scope)).rejects.toThrow(
      /output limit exceeded/,
    );
  });

  it('reads own properties only: no prototype, no constructor', async () => {
    await expect(renderer.render({ body: '{{ customer.traits.constructor.name }}' }, scope)).rejects.toThrow(
      /undefined variable: customer.traits.constructor/,
    );
    await expect(renderer.render({ body: '{{ customer.traits.__proto__ }}' }, scope)).rejects.toThrow(/undefined variable/);
  });

  it('renders the next template normally after one went over a bound', async () => {
    await expect(renderer.render({ body: '{% for a in (1..100000000) %}{% endfor %}' }, scope)).rejects.toBeInstanceOf(TemplateError);
    expect(await renderer.render({ body: 'Hi {{ customer.traits.name }}' }, scope)).toEqual({ body: 'Hi Ann' });
  });
});

describe('TemplateRenderer.check (what deploying a trigger asks)', () => {
  const renderer = new TemplateRenderer({ parseLimit: 100 });

  it('answers why a template that does not parse, reads files or is over the parse limit is refused, and nothing for a good one', () => {
    expect(renderer.check('Hi {{ customer.traits.name | default: "there" }}')).toBeUndefined();
    expect(renderer.check('Hi {{ customer.traits.name ')).toMatch(/not closed/);
    expect(renderer.check('{% if x %}open')).toMatch(/not closed/);
    for (const tag of ['include', 'render', 'layout'])
      expect(renderer.check(`{% ${tag} 'x' %}`)).toMatch(new RegExp(`the "${tag}" tag is not allowed`));
    expect(renderer.check('x'.repeat(101))).toMatch(/parse length limit exceeded/);
  });
});
