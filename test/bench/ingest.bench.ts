import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { customerStreamId, ingestedEventId } from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase, synchronousModeFromEnv, type SynchronousMode } from '@journey/event-store';
import { ROLES } from '../../apps/engine/src/config';
import { makeCall, percentile, postJson, startEngine, type RunningEngine } from './harness';

/**
 * Ingestion bars (issue 2), run on the built engine (`npm run build && node dist/test/bench/ingest.bench.js`):
 * - throughput (default): N clients POST /v1/batch with 100 calls each; against the raw ceiling, the same events
 *   appended straight to a fresh SQLite file (WAL, synchronous FULL unless JOURNEY_SQLITE_SYNCHRONOUS says otherwise,
 *   for both) in 100-event transactions, in the same run.
 *   Targets: >= 20,000 events/s over HTTP and >= 25% of the raw ceiling.
 * - memory (`--memory`, default 1,000,000 events for 10,000 customers): the engine's peak RSS. Target: < 400 MB.
 */

export const TARGETS = { httpEventsPerSec: 20_000, ratioToRaw: 0.25, rssMb: 400 };
const BATCH = 100;

export interface IngestOptions {
  mode?: 'throughput' | 'memory';
  events?: number;
  customers?: number;
  clients?: number;
  /**
   * JOURNEY_ROLES of the engine under test. Default: the engine's default (every role: projections, reactors,
   * dispatcher and relay consume each event in the same process, as in a single-node deployment); `api` isolates
   * ingestion.
   */
  roles?: string;
}

export interface HttpFigures {
  events: number;
  eventsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  clients: number;
  roles: string;
  /** Engine CPU time per event: what the figures would be bounded by on an idle machine, apart from fsync waits. */
  engineCpuUsPerEvent: number;
}

export type IngestFigures =
  | {
      bench: 'ingest';
      mode: 'throughput';
      synchronous: string;
      raw: { events: number; eventsPerSec: number };
      http: HttpFigures;
      ratioHttpToRaw: number;
      targets: typeof TARGETS;
      meetsTargets: boolean;
    }
  | {
      bench: 'ingest';
      mode: 'memory';
      synchronous: string;
      http: HttpFigures;
      customers: number;
      peakRssMb: number;
      finalRssMb: number;
      targets: typeof TARGETS;
      meetsTargets: boolean;
    };

/** The raw ceiling: the rows the engine writes, inserted with prepared statements in 100-event transactions. */
function rawCeiling(
  events: number,
  customers: number,
  runId: string,
  synchronous: SynchronousMode,
): { events: number; eventsPerSec: number } {
  const dir = mkdtempSync(join(tmpdir(), 'journey-raw-'));
  const db = openSqliteDatabase(join(dir, 'raw.db'), { synchronous });
  new SqliteEventStore(db); // creates the same schema
  db.pragma(`synchronous = ${synchronous}`); // the durability of the engine's event commits, for every commit here
  const insert = db.prepare('INSERT INTO events (id, stream_id, revision, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)');
  const revisions = new Map<string, number>();
  const tx = db.transaction((from: number) => {
    for (let i = from; i < Math.min(from + BATCH, events); i++) {
      const call = makeCall(i, customers, runId);
      const stream = customerStreamId('default', String(call.userId));
      const revision = (revisions.get(stream) ?? -1) + 1;
      revisions.set(stream, revision);
      const now = new Date().toISOString();
      const type = call.type === 'identify' ? 'CustomerIdentified' : 'InteractionRecorded';
      const metadata = {
        workspaceId: 'default',
        customerId: call.userId,
        occurredAt: call.timestamp,
        recordedAt: now,
        correlationId: call.messageId,
        source: 'bench',
        schemaVersion: 1,
      };
      insert.run(
        ingestedEventId('default', String(call.messageId)),
        stream,
        revision,
        type,
        JSON.stringify(call),
        JSON.stringify(metadata),
      );
    }
  });
  const started = process.hrtime.bigint();
  for (let i = 0; i < events; i += BATCH) tx(i);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return { events, eventsPerSec: Math.round(events / seconds) };
}

async function pushHttp(
  engine: RunningEngine,
  events: number,
  customers: number,
  clients: number,
  roles: string,
  runId: string,
): Promise<HttpFigures> {
  const latencies: number[] = [];
  const cpuBefore = engine.cpuSeconds();
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (;;) {
        const from = next;
        next += BATCH;
        if (from >= events) return;
        const batch = Array.from({ length: Math.min(BATCH, events - from) }, (_, k) => makeCall(from + k, customers, runId));
        const res = await postJson(engine.url, '/v1/batch', JSON.stringify({ batch }));
        if (res.status !== 200) throw new Error(`batch answered ${res.status}: ${res.text}`);
        latencies.push(res.ms);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  return {
    events,
    eventsPerSec: Math.round(events / seconds),
    p50Ms: +percentile(latencies, 50).toFixed(2),
    p99Ms: +percentile(latencies, 99).toFixed(2),
    clients,
    roles,
    engineCpuUsPerEvent: +(((engine.cpuSeconds() - cpuBefore) * 1e6) / events).toFixed(1),
  };
}

export async function run(options: IngestOptions = {}): Promise<IngestFigures> {
  const mode = options.mode ?? 'throughput';
  const events = options.events ?? (mode === 'memory' ? 1_000_000 : 200_000);
  const customers = options.customers ?? 10_000;
  const clients = options.clients ?? 8;
  const roles = options.roles ?? ROLES.join(',');
  const synchronous = synchronousModeFromEnv(process.env.JOURNEY_SQLITE_SYNCHRONOUS); // the engine child inherits it
  const raw = mode === 'throughput' ? rawCeiling(events, customers, randomUUID(), synchronous) : undefined;
  const engine = await startEngine({ JOURNEY_ROLES: roles });
  let peakRssMb = engine.rssMb();
  const sampler = setInterval(() => (peakRssMb = Math.max(peakRssMb, engine.rssMb())), 250);
  try {
    const http = await pushHttp(engine, events, customers, clients, roles, randomUUID());
    if (raw) {
      const ratioHttpToRaw = +(http.eventsPerSec / raw.eventsPerSec).toFixed(3);
      return {
        bench: 'ingest',
        mode: 'throughput',
        synchronous,
        raw,
        http,
        ratioHttpToRaw,
        targets: TARGETS,
        meetsTargets: http.eventsPerSec >= TARGETS.httpEventsPerSec && ratioHttpToRaw >= TARGETS.ratioToRaw,
      };
    }
    const finalRssMb = Math.round(engine.rssMb());
    peakRssMb = Math.round(Math.max(peakRssMb, finalRssMb));
    return {
      bench: 'ingest',
      mode: 'memory',
      synchronous,
      http,
      customers,
      peakRssMb,
      finalRssMb,
      targets: TARGETS,
      meetsTargets: peakRssMb < TARGETS.rssMb,
    };
  } finally {
    clearInterval(sampler);
    await engine.stop();
    rmSync(engine.dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      memory: { type: 'boolean' },
      events: { type: 'string' },
      customers: { type: 'string' },
      clients: { type: 'string' },
      roles: { type: 'string' },
    },
  });
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  run({
    mode: values.memory ? 'memory' : 'throughput',
    events: num(values.events),
    customers: num(values.customers),
    clients: num(values.clients),
    roles: values.roles,
  })
    .then((figures) => console.log(JSON.stringify(figures, null, 2)))
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
}
