/**
 * Roles: the engine split into processes on ONE shared SQLite file (WAL; other processes' appends are seen through the
 * store's 250 ms poll). Process A serves the API and runs the projector, the dispatcher and the relay; B and C run only
 * the reactors, each for half of the customers (JOURNEY_PARTITION_COUNT=2, JOURNEY_PARTITION_INDEX=0/1).
 *
 * Two triggers deployed through A: `roles-now` sends an inbox message on `Signed Up`, `roles-later` waits (a durable
 * timer) after `Trial Started` and then sends one. What is checked:
 * - every customer gets exactly one message per trigger, each delivered once (by A's dispatcher);
 * - each reactor process wrote the effects of its own partition's customers and of no other (its metrics count what it
 *   wrote and what it found already written), and both partitions did work;
 * - with B killed, C keeps its customers going (their timers fire) while B's customers wait, C firing none of B's
 *   timers; B restarted picks up its customers from its checkpoint and timers, and nothing is sent twice;
 * - a process with only the `api` role runs no worker.
 * Real time throughout (the triggers' maxEventAge keeps old events from starting runs).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TRIGGER_SOURCE, type RecordedEvent } from '@journey/domain';
import { EVENT_STORE, SqliteEventStore, openSqliteDatabase, type EventStore, type SqliteDatabase } from '@journey/event-store';
import { SQLITE_DB } from '../../apps/engine/src/persistence.module';
import { partitionOf } from '@journey/reactors';
import { spawnEngine, type EngineProcess } from '../support/engine-process';
import { startEngine } from './support';
import { waitFor as poll } from '../support/wait';

const KEYS = { JOURNEY_WRITE_KEY: 'wk_roles_e2e', JOURNEY_ADMIN_KEY: 'ak_roles_e2e' };
const ADMIN = `Bearer ${KEYS.JOURNEY_ADMIN_KEY}`;
const WRITE = `Basic ${Buffer.from(`${KEYS.JOURNEY_WRITE_KEY}:`).toString('base64')}`;
const WAIT_S = 5;
const CUSTOMERS = 40;

const TRIGGERS = [
  {
    id: 'roles-now',
    name: 'Send at once',
    entry: { event: 'Signed Up' },
    steps: [{ send: { channel: 'inbox', body: 'Welcome {{ customer.traits.name | default: "there" }}' } }],
  },
  {
    id: 'roles-later',
    name: 'Send after a wait',
    entry: { event: 'Trial Started' },
    steps: [{ wait: { duration: `${WAIT_S}s` } }, { send: { channel: 'inbox', body: 'How is the trial going?' } }],
  },
];

async function call(url: string, authorization: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = res.headers.get('content-type')?.includes('json');
  return { status: res.status, body: (json && text ? JSON.parse(text) : undefined) as any, text };
}

/** Child engines are slow to react on a loaded machine: 20 s unless a call says otherwise. */
const waitFor: typeof poll = (probe, what, timeoutMs = 20_000) => poll(probe, what, timeoutMs);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Prometheus text -> value of one sample (0 when absent). */
function sample(metrics: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.indexOf('}'));
    const got = inside.split(',');
    if (want.every((w) => got.includes(w)) && got.length === want.length) return Number(line.slice(line.indexOf('}') + 1).trim());
  }
  return 0;
}

describe('roles: api + projector + dispatcher + relay in one process, reactors split by customer over two', () => {
  let dir: string;
  let db: SqliteDatabase;
  let store: SqliteEventStore;
  let a: EngineProcess;
  let b: EngineProcess;
  let c: EngineProcess;
  const reactorEnv = (index: number) => ({
    ...KEYS,
    JOURNEY_ROLES: 'reactor',
    JOURNEY_PARTITION_COUNT: '2',
    JOURNEY_PARTITION_INDEX: String(index),
  });

  /** Customer id -> its events (customer streams only). */
  async function byCustomer(): Promise<Map<string, RecordedEvent[]>> {
    const out = new Map<string, RecordedEvent[]>();
    for (let after = 0n; ;) {
      const page = await store.readAll({ after, maxCount: 5000, filter: { streamPrefixes: ['customer-'] } });
      if (page.length === 0) return out;
      for (const e of page) {
        const list = out.get(e.metadata.customerId) ?? [];
        list.push(e);
        out.set(e.metadata.customerId, list);
      }
      after = page[page.length - 1].position;
    }
  }

  const scheduled = (events: RecordedEvent[] | undefined, trigger: string) =>
    (events ?? []).filter((e) => e.type === 'MessageScheduled' && e.data.triggerId === trigger);
  const fired = (events: RecordedEvent[] | undefined, trigger: string) =>
    (events ?? []).filter((e) => e.type === 'TimerFired' && e.data.purpose === `trigger:${trigger}`);
  const timers = (events: RecordedEvent[] | undefined, trigger: string) =>
    (events ?? []).filter((e) => e.type === 'TimerScheduled' && e.data.purpose === `trigger:${trigger}`);

  async function ingest(customers: string[]): Promise<void> {
    const batch = customers.flatMap((userId) => [
      { type: 'identify', userId, traits: { name: userId } },
      { type: 'track', userId, event: 'Signed Up' },
      { type: 'track', userId, event: 'Trial Started' },
    ]);
    const res = await call(a.url, WRITE, 'POST', '/v1/batch', { batch });
    expect(res).toMatchObject({ status: 200, body: { success: true } });
  }

  /** Every customer has exactly one message per trigger, each delivered exactly once. */
  function expectExactlyOnce(events: Map<string, RecordedEvent[]>, customers: string[]): void {
    for (const id of customers) {
      const stream = events.get(id) ?? [];
      for (const t of TRIGGERS) {
        const messages = scheduled(stream, t.id);
        expect({ id, trigger: t.id, scheduled: messages.length }).toEqual({ id, trigger: t.id, scheduled: 1 });
        const delivered = stream.filter((e) => e.type === 'MessageDelivered' && e.data.messageId === messages[0].data.messageId);
        expect({ id, trigger: t.id, delivered: delivered.length }).toEqual({ id, trigger: t.id, delivered: 1 });
        expect({
          id,
          trigger: t.id,
          matched: stream.filter((e) => e.type === 'TriggerMatched' && e.data.triggerId === t.id).length,
        }).toEqual({ id, trigger: t.id, matched: 1 });
      }
      expect({ id, fired: fired(stream, 'roles-later').length }).toEqual({ id, fired: 1 });
    }
  }

  const allDelivered = (events: Map<string, RecordedEvent[]>, customers: string[]) =>
    customers.every(
      (id) =>
        TRIGGERS.every((t) => scheduled(events.get(id), t.id).length > 0) &&
        (events.get(id) ?? []).filter((e) => e.type === 'MessageDelivered').length >= TRIGGERS.length,
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'journey-roles-e2e-'));
    // A first: it creates the schema; then the two reactor processes side by side
    a = await spawnEngine({ dataDir: dir, env: { ...KEYS, JOURNEY_ROLES: 'api,projector,dispatcher,relay' } });
    [b, c] = await Promise.all([spawnEngine({ dataDir: dir, env: reactorEnv(0) }), spawnEngine({ dataDir: dir, env: reactorEnv(1) })]);
    db = openSqliteDatabase(join(dir, 'journey.db'));
    store = new SqliteEventStore(db);
    for (const t of TRIGGERS) {
      expect(await call(a.url, ADMIN, 'POST', '/v1/triggers', t)).toMatchObject({ status: 201, body: { id: t.id, version: 1 } });
      expect(await call(a.url, ADMIN, 'POST', `/v1/triggers/${t.id}/enable`)).toMatchObject({ status: 200, body: { enabled: true } });
    }
  }, 90_000);

  afterAll(async () => {
    await Promise.all([a, b, c].map((p) => p?.kill('SIGKILL')));
    await store?.close();
    if (db?.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const partitionOfCustomer = (id: string) => partitionOf('default', id, 2);

  it('two reactor processes split the customers: each message exactly once, each customer handled by its own partition only', async () => {
    const customers = Array.from({ length: CUSTOMERS }, (_, i) => `first-${i}`);
    const mine = [0, 1].map((p) => customers.filter((id) => partitionOfCustomer(id) === p));
    expect(mine[0].length).toBeGreaterThan(5);
    expect(mine[1].length).toBeGreaterThan(5);

    await ingest(customers);
    await waitFor(async () => allDelivered(await byCustomer(), customers), 'both messages of every customer to be delivered', 30_000);
    await sleep(500); // let a duplicate, if any process produced one, land before counting
    const settled = await byCustomer();
    expectExactlyOnce(settled, customers);

    // who wrote what: each reactor process counts the events it appended and those it found already written
    const [metricsB, metricsC] = await Promise.all([b, c].map(async (p) => (await call(p.url, ADMIN, 'GET', '/metrics')).text));
    for (const [p, metrics] of [metricsB, metricsC].entries()) {
      const own = mine[p].flatMap((id) => settled.get(id) ?? []);
      const byTriggers = own.filter((e) => e.metadata.source === TRIGGER_SOURCE).length;
      const byTimers = own.filter((e) => e.type === 'TimerFired').length;
      const byStage = own.filter((e) => e.metadata.source === 'reactor').length;
      expect({ partition: p, stage: sample(metrics, 'journey_reactor_events_total', { reactor: 'stage', outcome: 'written' }) }).toEqual({
        partition: p,
        stage: byStage,
      });
      expect({
        partition: p,
        triggers: sample(metrics, 'journey_reactor_events_total', { reactor: 'triggers', outcome: 'written' }),
      }).toEqual({ partition: p, triggers: byTriggers });
      expect({ partition: p, timers: sample(metrics, 'journey_reactor_events_total', { reactor: 'timers', outcome: 'written' }) }).toEqual({
        partition: p,
        timers: byTimers,
      });
      expect(byTriggers).toBeGreaterThan(0);
      expect(byTimers).toBeGreaterThan(0);
      for (const reactor of ['triggers', 'stage', 'timers']) {
        expect({
          partition: p,
          reactor,
          duplicates: sample(metrics, 'journey_reactor_events_total', { reactor, outcome: 'duplicate' }),
        }).toEqual({ partition: p, reactor, duplicates: 0 });
      }
    }

    // each reactor keeps a checkpoint per partition
    const names = (db.prepare('SELECT name FROM checkpoints').all() as Array<{ name: string }>).map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(['triggers#0/2', 'triggers#1/2', 'stage#0/2', 'stage#1/2']));
    expect(names).not.toContain('triggers');

    // the API process answers queries from its projections
    const inbox = await call(a.url, ADMIN, 'GET', `/v1/customers/${customers[0]}/inbox`);
    expect(inbox.status).toBe(200);
    expect(inbox.body.messages).toHaveLength(2);
  }, 60_000);

  it('with one reactor process down, only its customers wait (their timers too); restarted, it completes them exactly once', async () => {
    const customers = Array.from({ length: CUSTOMERS }, (_, i) => `second-${i}`);
    const mine = [0, 1].map((p) => customers.filter((id) => partitionOfCustomer(id) === p));
    await ingest(customers);
    // both processes start their customers' runs: the immediate message and the wait's durable timer
    const started = await waitFor(async () => {
      const all = await byCustomer();
      return (
        customers.every((id) => scheduled(all.get(id), 'roles-now').length === 1 && timers(all.get(id), 'roles-later').length === 1) && all
      );
    }, 'every customer to have its immediate message and its timer');
    const dueAt = (id: string) => Date.parse(String(timers(started.get(id), 'roles-later')[0].data.dueAt));
    const lastDue = Math.max(...mine[0].map(dueAt));
    expect(Math.min(...mine[0].map(dueAt))).toBeGreaterThan(Date.now()); // B goes down before its timers are due
    expect((await b.kill('SIGKILL')).signal).toBe('SIGKILL');

    // C's customers go on: their timers fire and the second message goes out
    await waitFor(
      async () => {
        const all = await byCustomer();
        return mine[1].every((id) => scheduled(all.get(id), 'roles-later').length === 1);
      },
      "C's customers to get their second message",
      30_000,
    );
    // B's customers wait: past their due time, C fired none of their timers and sent them nothing
    await sleep(Math.max(0, lastDue - Date.now()) + 1500);
    const whileDown = await byCustomer();
    for (const id of mine[0])
      expect({
        id,
        fired: fired(whileDown.get(id), 'roles-later').length,
        sent: scheduled(whileDown.get(id), 'roles-later').length,
      }).toEqual({ id, fired: 0, sent: 0 });

    // B again: its timers are rebuilt from the log and fire at once; its reactors resume from their checkpoints
    b = await spawnEngine({ dataDir: dir, env: reactorEnv(0) });
    await waitFor(async () => allDelivered(await byCustomer(), customers), "B's customers to be completed after its restart", 30_000);
    await sleep(500);
    expectExactlyOnce(await byCustomer(), customers);
  }, 60_000);

  it('a process with only the api role runs no worker', async () => {
    const engine = await startEngine({ env: { ...KEYS, JOURNEY_ROLES: 'api' } });
    try {
      expect(await call(engine.url, ADMIN, 'POST', '/v1/triggers', TRIGGERS[0])).toMatchObject({ status: 201 });
      expect(await call(engine.url, ADMIN, 'POST', `/v1/triggers/${TRIGGERS[0].id}/enable`)).toMatchObject({ status: 200 });
      expect((await call(engine.url, WRITE, 'POST', '/v1/track', { userId: 'solo', event: 'Signed Up' })).status).toBe(200);
      await sleep(1000); // several poll intervals: a worker, if one ran, would have stored a checkpoint and reacted
      // no projection, reactor, dispatcher or relay stored a checkpoint
      expect(engine.app.get<SqliteDatabase>(SQLITE_DB).prepare('SELECT name FROM checkpoints').all()).toEqual([]);
      const health = await call(engine.url, ADMIN, 'GET', '/health');
      // an API process follows key changes, and the live feed of its SSE streams (it writes nothing)
      expect(Object.keys(health.body.details)).toEqual(['eventStore:sqlite', 'keys', 'live-conversations']);
      const log = await engine.app.get<EventStore>(EVENT_STORE).readAll({});
      expect(log.map((e) => e.type)).toEqual(['TriggerDefined', 'TriggerEnabled', 'InteractionRecorded']);
    } finally {
      await engine.close();
    }
  });
});
