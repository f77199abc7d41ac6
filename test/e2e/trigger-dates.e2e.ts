/**
 * Dates and durations out of range (issue 9, item 2): the shipped renewal-sequence trigger reads `renewal_date`; a
 * customer sending `1e300` (or a year beyond 9999) must not stop the triggers reactor, so the next customer still gets
 * its decision. A duration beyond the 10-year maximum is a 400 naming the field, on deploy and on a draft's backtest; a
 * backtest over history holding such dates is a 200.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { customerStreamId, type RecordedEvent } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { startEngine, type TestEngine } from './support';
import { waitFor } from '../support/wait';

const TRIGGER = 'renewal-sequence';
const library = readFileSync(join(__dirname, '../../triggers/library', `${TRIGGER}.yaml`), 'utf8');

describe('trigger dates and durations out of range', () => {
  let engine: TestEngine;
  let store: EventStore;

  async function call(method: string, path: string, body?: unknown, authorization = engine.auth.admin, contentType = 'application/json') {
    const res = await fetch(`${engine.url}${path}`, {
      method,
      headers: { authorization, ...(body !== undefined ? { 'content-type': contentType } : {}) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as any };
  }
  const timers = async (customerId: string) =>
    (await store.readStream(customerStreamId('default', customerId))).filter(
      (e: RecordedEvent) => e.type === 'TimerScheduled' && e.data.purpose === `trigger:${TRIGGER}`,
    );

  beforeAll(async () => {
    engine = await startEngine();
    store = engine.app.get(EVENT_STORE);
  });
  afterAll(() => engine?.close());

  it('a duration beyond 10 years is a 400 naming the field on POST and PUT /v1/triggers and on a draft backtest', async () => {
    const forever = library.replace('wait: { duration: 30d }', 'wait: { duration: 999999999999d }');
    expect(forever).not.toBe(library);
    const message = 'steps[1].wait.duration: expected a duration of at most 3650d (10 years), got "999999999999d"';
    expect(await call('POST', '/v1/triggers', forever, undefined, 'application/yaml')).toMatchObject({
      status: 400,
      body: { errors: [message] },
    });
    const draft = {
      id: 'forever',
      name: 'Forever',
      entry: { event: 'Ping' },
      steps: [{ wait: { duration: '30d' } }, { wait: { duration: '999999999999d' } }],
    };
    expect(await call('POST', '/v1/triggers/backtest', { definition: draft })).toMatchObject({
      status: 400,
      body: { message: [`definition.${message}`] },
    });
    expect(await call('POST', '/v1/triggers', { ...draft, steps: [{ wait: { duration: '1d' } }] })).toMatchObject({ status: 201 });
    expect(await call('PUT', '/v1/triggers/forever', draft)).toMatchObject({ status: 400, body: { errors: [message] } });
    expect(await call('POST', '/v1/triggers/forever/backtest', { definition: draft })).toMatchObject({
      status: 400,
      body: { message: [`definition.${message}`] },
    });
  });

  it('a customer with renewal_date 1e300 (or beyond year 9999) gets nothing, the next customer still gets its decision; backtests answer 200', async () => {
    expect(await call('POST', '/v1/triggers', library, undefined, 'application/yaml')).toMatchObject({
      status: 201,
      body: { id: TRIGGER, version: 1 },
    });
    expect(await call('POST', `/v1/triggers/${TRIGGER}/enable`)).toMatchObject({ status: 200, body: { enabled: true } });
    const renewal = new Date(Date.now() + 100 * 86_400_000).toISOString().slice(0, 10);
    for (const [userId, renewal_date] of [
      ['huge', 1e300],
      ['negative', -1e300],
      ['far', '+275760-09-13T00:00:00Z'],
      ['ok', renewal],
    ] as const)
      expect(await call('POST', '/v1/identify', { userId, traits: { renewal_date } }, engine.auth.write)).toMatchObject({ status: 200 });

    // 90 days before the renewal date, at 09:00 (UTC: the customer has no time zone)
    await waitFor(async () => (await timers('ok')).length === 1, 'the renewal watch of the customer after the bad dates');
    const due = new Date(`${renewal}T09:00:00Z`);
    due.setUTCDate(due.getUTCDate() - 90);
    expect((await timers('ok'))[0].data.dueAt).toBe(due.toISOString());
    for (const customer of ['huge', 'negative', 'far']) expect(await timers(customer)).toEqual([]);

    const stored = await call('POST', `/v1/triggers/${TRIGGER}/backtest`, {});
    expect(stored).toMatchObject({ status: 200, body: { triggerId: TRIGGER, customers: 4 } });
    const draft = await call('POST', '/v1/triggers/backtest', {
      definition: {
        id: 'renewal-draft',
        name: 'Draft',
        entry: { all: [{ event: 'CustomerIdentified' }, { traits: { renewal_date: { before: '+3650d' } } }] },
        steps: [{ wait: { duration: '3650d' } }],
      },
    });
    expect(draft).toMatchObject({ status: 200, body: { entered: { customers: 1, sampleCustomerIds: ['ok'] } } });
  });
});
