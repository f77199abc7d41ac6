import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { customerStreamId, ingestedEventId } from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase } from '@journey/event-store';
import { makeCall, percentile, postJson, startEngine } from './harness';

/**
 * Issue 2 bars: the HTTP ingestion path (/v1/batch, 100 calls a batch, several concurrent clients) against the raw
 * ceiling (the same events appended straight to SQLite in 100-event transactions), in the same run; and the engine's
 * RSS after 1,000,000 events for 10,000 customers.
 */
export interface IngestFigures {
  synchronous: string;
  raw: { events: number; eventsPerSec: number };
  http: { events: number; eventsPerSec: number; p50Ms: number; p99Ms: number; clients: number; roles: string };
  ratioHttpToRaw: number;
  memory?: { events: number; customers: number; rssMb: number; eventsPerSec: number };
}

const BATCH = 100;

/** The raw ceiling: the same rows the engine writes, inserted with prepared statements in 100-event transactions. */
function rawCeiling(events: number, customers: number, runId: string): { events: number; eventsPerSec: number } {
  const dir = mkdtempSync(join(tmpdir(), 'journey-raw-'));
  const db = openSqliteDatabase(join(dir, 'raw.db'));
  new SqliteEventStore(db); // creates the same schema
  const insert = db.prepare('INSERT INTO events (id, stream_id, revision, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)');
  const revisions = new Map<string, number>();
  const tx = db.transaction((from: number) => {
    for (let i = from; i < from + BATCH; i++) {
      const call = makeCall(i, customers, runId);
      const stream = customerStreamId('default', String(call.userId));
      const revision = (revisions.get(stream) ?? -1) + 1;
      revisions.set(stream, revision);
      const now = new Date().toISOString();
      insert.run(ingestedEventId('default', String(call.messageId)), stream, revision, call.type === 'identify' ? 'CustomerIdentified' : 'InteractionRecorded', JSON.stringify(call), JSON.stringify({ workspaceId: 'default', customerId: call.userId, occurredAt: call.timestamp, recordedAt: now, source: 'bench', schemaVersion: 1 }));
    }
  });
  const started = process.hrtime.bigint();
  for (let i = 0; i < events; i += BATCH) tx(i);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return { events, eventsPerSec: Math.round(events / seconds) };
}

async function pushHttp(url: string, events: number, customers: number, clients: number, runId: string) {
  const latencies: number[] = [];
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (;;) {
        const from = next;
        next += BATCH;
        if (from >= events) return;
        const batch = Array.from({ length: BATCH }, (_, k) => makeCall(from + k, customers, runId));
        const res = await postJson(url, '/v1/batch', JSON.stringify({ batch }));
        if (res.status !== 200) throw new Error(`batch answered ${res.status}: ${res.text}`);
        latencies.push(res.ms);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  return { events, eventsPerSec: Math.round(events / seconds), p50Ms: +percentile(latencies, 50).toFixed(2), p99Ms: +percentile(latencies, 99).toFixed(2) };
}

export async function runIngestBench(opts: { events?: number; clients?: number; customers?: number; memoryEvents?: number; roles?: string } = {}): Promise<IngestFigures> {
  const events = opts.events ?? 300_000;
  const clients = opts.clients ?? 4;
  const customers = opts.customers ?? 10_000;
  const roles = opts.roles ?? 'api';
  const raw = rawCeiling(events, customers, randomUUID());
  const engine = await startEngine({ JOURNEY_ROLES: roles });
  try {
    const http = await pushHttp(engine.url, events, customers, clients, randomUUID());
    const figures: IngestFigures = { synchronous: process.env.JOURNEY_SQLITE_SYNCHRONOUS ?? 'FULL', raw, http: { ...http, clients, roles }, ratioHttpToRaw: +(http.eventsPerSec / raw.eventsPerSec).toFixed(3) };
    if (opts.memoryEvents) {
      const more = await pushHttp(engine.url, opts.memoryEvents, customers, clients, randomUUID());
      figures.memory = { events: opts.memoryEvents, customers, rssMb: Math.round(engine.rssMb()), eventsPerSec: more.eventsPerSec };
    }
    return figures;
  } finally {
    await engine.stop();
    rmSync(engine.dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  runIngestBench({ events: Number(arg('events') ?? 300_000), clients: Number(arg('clients') ?? 4), memoryEvents: arg('memory') ? Number(arg('memory')) : undefined, roles: arg('roles') })
    .then((f) => console.log(JSON.stringify(f, null, 2)))
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
