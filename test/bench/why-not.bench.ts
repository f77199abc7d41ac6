/**
 * Why-not and preview for a customer with 10,000 events (issue #12, bar: p99 < 100 ms each). The customer's history
 * (an identify, then Feature Used, Page Viewed and a few Report Exported over the last nine days) is appended straight
 * to the engine's SQLite file in one appendMany from this process, once the engine is up and two triggers are enabled
 * over HTTP: `power` (Report Exported after 3 Feature Used in 7 days: the customer got it) and `never` (the same with a
 * count no one reaches: why-not explains the count over the history). Once the engine is at rest, sequential HTTP
 * requests of GET /v1/customers/:id/why-not for each trigger and POST /v1/triggers/power/preview are timed against the
 * baseline of reading the customer's stream (SqliteEventStore.readStream) in this process: what every request reads.
 * Run: npm run build && node dist/test/bench/why-not.bench.js [--events N --requests N --short]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { customerStreamId, deterministicId, envelope, type EventDataByType, type EventType, type JourneyEvent } from '@journey/domain';
import { SQLITE_FILES, SqliteEventStore, openSqliteDatabase } from '@journey/event-store';
import { ADMIN_KEY, percentile, startEngine } from './harness';

export const TARGET_P99_MS = 100;
const CUSTOMER = 'bench-customer';

type Stats = { p50: number; p99: number; max: number };

export interface WhyNotFigures {
  bench: 'why-not';
  events: number;
  requests: number;
  /** The first why-not of the customer: its stream read whole (later requests read only what was appended since). */
  coldWhyNotMs: number;
  /** The customer's stream read in this process (SqliteEventStore.readStream): the baseline. */
  readStreamMs: Stats;
  /** GET why-not of a trigger the customer got (the log's run answers). */
  whyNotSentMs: Stats;
  /** GET why-not of a trigger whose count is never reached (the entry explained over the history). */
  whyNotEntryMs: Stats;
  /** POST preview of a send step (rendered, guards checked). */
  previewMs: Stats;
  targetP99Ms: number;
  meetsTargets: boolean;
}

const stats = (xs: number[]): Stats => {
  const s = [...xs].sort((a, b) => a - b);
  const r = (v: number) => +v.toFixed(2);
  return { p50: r(percentile(s, 50)), p99: r(percentile(s, 99)), max: r(s[s.length - 1] ?? NaN) };
};

const agent = new Agent({ keepAlive: true, maxSockets: 4 });
function call(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; ms: number; body: string }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const u = new URL(path, url);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: `${u.pathname}${u.search}`,
        method,
        agent,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(payload !== undefined && { 'content-type': 'application/json' }) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Number(process.hrtime.bigint() - started) / 1e6, body: text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** The customer's history: an identify, then 10k events over the last nine days (every 50th a Report Exported). */
function history(count: number): JourneyEvent[] {
  const now = new Date().toISOString();
  const end = Date.now() - 60_000;
  const span = 9 * 86_400_000;
  const make = <T extends EventType>(i: number, type: T, data: EventDataByType[T]) => {
    const at = new Date(end - span + Math.floor((i * span) / count)).toISOString();
    return envelope({
      id: deterministicId('why-not-bench', i),
      type,
      data,
      workspaceId: 'default',
      customerId: CUSTOMER,
      occurredAt: at,
      // arrived now (appended now): a backfill with its event times, decided on when it is appended
      recordedAt: now,
      source: 'bench',
    });
  };
  const events: JourneyEvent[] = [
    make(0, 'CustomerIdentified', { userId: CUSTOMER, traits: { name: 'Ada', email: 'ada@example.com', plan: 'pro' } }),
  ];
  for (let i = 1; i < count; i++) {
    if (i % 50 === 0) events.push(make(i, 'InteractionRecorded', { event: 'Report Exported', properties: { format: 'csv' } }));
    else if (i % 3 === 0) events.push(make(i, 'PageViewed', { kind: 'page', name: `Page ${i % 20}`, properties: {} }));
    else events.push(make(i, 'InteractionRecorded', { event: 'Feature Used', properties: { feature: `f${i % 7}` } }));
  }
  return events;
}

export async function run(options: { events?: number; requests?: number } = {}): Promise<WhyNotFigures> {
  const count = options.events ?? 10_000;
  const requests = options.requests ?? 500;
  const dataDir = mkdtempSync(join(tmpdir(), 'journey-why-not-bench-'));
  try {
    const engine = await startEngine({ JOURNEY_DATA_DIR: dataDir, JOURNEY_RATE_LIMIT_PER_SECOND: '0' });
    try {
      const trigger = (id: string, gte: number) => ({
        id,
        name: id,
        entry: { all: [{ event: 'Report Exported' }, { count: { event: 'Feature Used', within: '7d', gte } }] },
        guards: { frequencyCaps: [{ max: 3, per: '7d', scope: 'customer' }] },
        steps: [
          {
            send: {
              channel: 'log',
              subject: 'Reports for {{ customer.traits.name }}',
              body: 'Hi {{ customer.traits.name }}, {{ event.format }}',
            },
          },
        ],
      });
      for (const [id, gte] of [
        ['power', 3],
        ['never', 1_000_000],
      ] as const) {
        const created = await call(engine.url, 'POST', '/v1/triggers', trigger(id, gte));
        if (created.status !== 201) throw new Error(`POST /v1/triggers: ${created.status} ${created.body}`);
        await call(engine.url, 'POST', `/v1/triggers/${id}/enable`);
      }
      const db = openSqliteDatabase(join(dataDir, SQLITE_FILES.events), { synchronous: 'NORMAL' });
      const log = new SqliteEventStore(db);
      await log.appendMany([{ streamId: customerStreamId('default', CUSTOMER), events: history(count) }]);
      // at rest: the reactors and projections are through the history (the log's head unchanged over 1.5 s)
      for (let still = 0, last = ''; still < 3;) {
        await new Promise((r) => setTimeout(r, 500));
        const now = JSON.stringify(db.prepare('SELECT MAX(position) AS p FROM events').get());
        still = now === last ? still + 1 : 0;
        last = now;
      }
      const paths = {
        sent: `/v1/customers/${CUSTOMER}/why-not?trigger=power`,
        entry: `/v1/customers/${CUSTOMER}/why-not?trigger=never`,
      };
      // the first request reads the whole stream (cold); the next ones only what was appended since
      const cold = await call(engine.url, 'GET', paths.sent);
      // and the reactor has decided on the history: `power` sent its message (a loaded machine may take a while)
      let sent = JSON.parse(cold.body) as { code: string };
      for (const deadline = Date.now() + 120_000; sent.code !== 'sent' && Date.now() < deadline;) {
        await new Promise((r) => setTimeout(r, 500));
        sent = JSON.parse((await call(engine.url, 'GET', paths.sent)).body) as { code: string };
      }
      const entry = JSON.parse((await call(engine.url, 'GET', paths.entry)).body) as { code: string; reason: string };
      const preview = await call(engine.url, 'POST', '/v1/triggers/power/preview', { customerId: CUSTOMER, step: 'steps[0]' });
      if (sent.code !== 'sent' || entry.code !== 'entry-not-met' || preview.status !== 200)
        throw new Error(`unexpected answers: ${JSON.stringify(sent)} ${JSON.stringify(entry)} ${preview.status} ${preview.body}`);
      const sample = { whyNotEntry: entry.reason, preview: (JSON.parse(preview.body) as { subject: string }).subject };
      console.error(JSON.stringify(sample));

      const stream = customerStreamId('default', CUSTOMER);
      const readMs: number[] = [];
      const sentMs: number[] = [];
      const entryMs: number[] = [];
      const previewMs: number[] = [];
      let read = 0;
      for (let i = 0; i < requests + 20; i++) {
        const started = process.hrtime.bigint();
        read = (await log.readStream(stream)).length;
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        const a = await call(engine.url, 'GET', paths.sent);
        const b = await call(engine.url, 'GET', paths.entry);
        const c = await call(engine.url, 'POST', '/v1/triggers/power/preview', { customerId: CUSTOMER, step: 'steps[0]' });
        if (a.status !== 200 || b.status !== 200 || c.status !== 200)
          throw new Error(`a request failed: ${a.status} ${b.status} ${c.status}`);
        if (i < 20) continue; // warm-up
        readMs.push(ms);
        sentMs.push(a.ms);
        entryMs.push(b.ms);
        previewMs.push(c.ms);
      }
      db.close();
      const figures = {
        readStreamMs: stats(readMs),
        whyNotSentMs: stats(sentMs),
        whyNotEntryMs: stats(entryMs),
        previewMs: stats(previewMs),
      };
      return {
        bench: 'why-not',
        events: read,
        requests,
        coldWhyNotMs: +cold.ms.toFixed(2),
        ...figures,
        targetP99Ms: TARGET_P99_MS,
        meetsTargets: [figures.whyNotSentMs, figures.whyNotEntryMs, figures.previewMs].every((s) => s.p99 < TARGET_P99_MS),
      };
    } finally {
      await engine.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const { values } = parseArgs({ options: { events: { type: 'string' }, requests: { type: 'string' }, short: { type: 'boolean' } } });
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  run({ events: num(values.events), requests: num(values.requests) ?? (values.short ? 100 : undefined) })
    .then((figures) => console.log(JSON.stringify(figures, null, 2)))
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
}
