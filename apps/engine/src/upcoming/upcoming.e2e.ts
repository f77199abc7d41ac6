/**
 * GET /v1/customers/:id/upcoming over HTTP: a customer signs up, the library's activation nudge arms its entry watch
 * (3 days), and the upcoming timeline lists it with its due time in the customer's zone, "unless Activated", and what
 * it would send; once the customer activates, it is gone.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from '../../../../libs/reactors/src/testing/eventually';
import { startEngine, type TestEngine } from '../../../../test/e2e/support';

const TRIGGER = 'onboarding-activation-nudge';
const DAY = 86_400_000;

describe('GET /v1/customers/:id/upcoming', () => {
  let engine: TestEngine;

  const call = async (method: string, path: string, authorization: string, body?: unknown, contentType = 'application/json') => {
    const res = await fetch(`${engine.url}${path}`, {
      method,
      headers: { authorization, ...(body !== undefined ? { 'content-type': contentType } : {}) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as any };
  };
  const upcoming = (customerId: string, query = '') => call('GET', `/v1/customers/${customerId}/upcoming${query}`, engine.auth.admin);

  beforeAll(async () => {
    engine = await startEngine();
    const yaml = readFileSync(join(__dirname, '../../../../triggers/library', `${TRIGGER}.yaml`), 'utf8');
    expect((await call('POST', '/v1/triggers', engine.auth.admin, yaml, 'application/yaml')).status).toBe(201);
    expect((await call('POST', `/v1/triggers/${TRIGGER}/enable`, engine.auth.admin)).status).toBe(200);
  });
  afterAll(() => engine?.close());

  it("lists the nudge's watch with its due time in the customer's zone and 'unless Activated'; after Activated it is gone", async () => {
    const signedUp = new Date(Math.floor(Date.now() / 1000) * 1000);
    const identified = await call('POST', '/v1/identify', engine.auth.write, {
      userId: 'ada',
      traits: { name: 'Ada', timezone: 'Europe/Berlin' },
      timestamp: signedUp.toISOString(),
    });
    expect(identified.status).toBe(200);

    const due = new Date(signedUp.getTime() + 3 * DAY);
    const local = Object.fromEntries(
      new Intl.DateTimeFormat('en-GB', {
        timeZone: 'Europe/Berlin',
        day: 'numeric',
        month: 'short',
        year: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      })
        .formatToParts(due)
        .map((p) => [p.type, p.value]),
    );
    const sameYear = local.year === String(new Date().getUTCFullYear());
    const dueLocal = `${local.day} ${local.month}${sameYear ? '' : ` ${local.year}`} ${local.hour}:${local.minute} Europe/Berlin`;

    const watch = await eventually(async () => {
      const r = await upcoming('ada');
      expect(r.status).toBe(200);
      const t = r.body.timers.find((x: { triggerId?: string }) => x.triggerId === TRIGGER);
      expect(t).toBeDefined();
      return { body: r.body, t };
    });
    expect(watch.body).toMatchObject({ customerId: 'ada', timeZone: 'Europe/Berlin' });
    expect(Date.parse(watch.body.horizon) - Date.parse(watch.body.now)).toBe(30 * DAY);
    expect(watch.t).toMatchObject({
      kind: 'trigger-entry',
      purpose: `trigger:${TRIGGER}`,
      dueAt: due.toISOString(),
      dueLocal,
      triggerName: 'Activation nudge',
      version: 1,
      unless: ['Activated'],
    });
    expect(watch.t.description).toBe(
      `Activation nudge (trigger ${TRIGGER} v1) due ${dueLocal} unless Activated: then ${watch.t.then.map((d: { description: string }) => d.description).join('; ')}`,
    );
    // what it would do: the email when the watch fires, the inbox message two days later (each deferred past quiet
    // hours when due at night in Berlin: listed at the time it would go out), the run completing
    const then = watch.t.then as Array<{ kind: string; channel?: string; reason?: string; at: string; subject?: string }>;
    expect(then.map((d) => `${d.kind} ${d.channel ?? d.reason}`).sort()).toEqual(['exit completed', 'send email', 'send inbox']);
    const email = then.find((d) => d.channel === 'email')!;
    expect(email).toMatchObject({ triggerId: TRIGGER, subject: 'Need a hand getting started?' });
    expect(Date.parse(email.at)).toBeGreaterThanOrEqual(due.getTime());
    expect(Date.parse(then.find((d) => d.channel === 'inbox')!.at)).toBeGreaterThanOrEqual(due.getTime() + 2 * DAY);

    // a shorter horizon forecasts nothing past it, and keeps listing the timer
    const short = await upcoming('ada', '?horizon=1d');
    expect(short.status).toBe(200);
    expect(short.body.timers.some((x: { triggerId?: string }) => x.triggerId === TRIGGER)).toBe(true);
    expect(short.body.decisions).toEqual([]);

    expect((await call('POST', '/v1/track', engine.auth.write, { userId: 'ada', event: 'Activated' })).status).toBe(200);
    await eventually(async () => {
      const r = await upcoming('ada');
      expect(r.body.timers.filter((x: { triggerId?: string }) => x.triggerId === TRIGGER)).toEqual([]);
      expect(r.body.decisions).toEqual([]);
    });
  });

  it('answers 400 for a horizon that is not a duration or longer than a year, 404 for an unknown customer', async () => {
    expect(await upcoming('ada', '?horizon=soon')).toMatchObject({
      status: 400,
      body: { message: expect.stringContaining('horizon must be a duration') },
    });
    expect((await upcoming('ada', '?horizon=400d')).status).toBe(400);
    expect(await upcoming('nobody')).toMatchObject({ status: 404, body: { message: 'customer "nobody" not found' } });
  });
});
