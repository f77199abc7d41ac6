/**
 * The CSM's queue at scale (issue 11, bar 2): 100,000 conversations in the store, one member holding 500 open ones;
 * GET /v1/work for that member must answer in p99 < 50 ms. The conversations' events (started, a customer message,
 * assigned to a team and a member, a third resolved, half with a pending SLA timer) are appended straight to the
 * engine's SQLite file in large appendMany batches (from this process, once the engine is up); the built engine
 * projects them (every projection, as it would) and we measure, once the `work` read model is at the head, sequential HTTP requests of the
 * member's whole queue (limit=500) and of its first page (the default 100), against the baseline of the same query on
 * the read-model store in this process (SqliteReadModelStore.find: no HTTP, no JSON answer).
 * Run: npm run build && node dist/test/bench/work-query.bench.js [--conversations N --requests N --short]
 * (the admin key asks for the member's queue with ?assignee=, the same query a csm key of that member makes).
 */
import { rmSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { customerStreamId, deterministicId, envelope, type EventDataByType, type EventType, type JourneyEvent } from '@journey/domain';
import { SQLITE_FILES, SqliteEventStore, openSqliteDatabase, type AppendRequest } from '@journey/event-store';
import { SqliteReadModelStore, WORK, type WorkDoc } from '@journey/read-models';
import { ADMIN_KEY, percentile, startEngine } from './harness';

export const TARGET_P99_MS = 50;
const MEMBER = 'm-bench';
const MEMBER_ITEMS = 500;
const OTHER_MEMBERS = 200;
const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;

export interface WorkQueryFigures {
  bench: 'work-query';
  conversations: number;
  events: number;
  memberOpenItems: number;
  loadSeconds: number;
  projectSeconds: number;
  /** After the projections: until the reactors are through the history too (the log and every checkpoint at rest). */
  settleSeconds: number;
  requests: number;
  /** GET /v1/work?assignee=<member>&limit=500: the member's whole queue. */
  httpFullMs: { p50: number; p99: number; max: number };
  /** GET /v1/work?assignee=<member>: its first page (100). */
  httpPageMs: { p50: number; p99: number; max: number };
  /** The same query (500) on the read-model store, in this process. */
  storeFullMs: { p50: number; p99: number; max: number };
  ratioHttpToStoreP50: number;
  targetP99Ms: number;
  meetsTargets: boolean;
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const r = (v: number) => +v.toFixed(2);
  return { p50: r(percentile(s, 50)), p99: r(percentile(s, 99)), max: r(s[s.length - 1] ?? NaN) };
};

/** The events of conversation `i`: who holds it, whether it is still open, its SLA timer. */
function conversationEvents(i: number): { customerId: string; events: JourneyEvent[] } {
  const customerId = `cust-${Math.floor(i / 4)}`;
  const conversationId = `conv-${i}`;
  const member = i < MEMBER_ITEMS * 2 && i % 2 === 0 ? MEMBER : `m-${i % OTHER_MEMBERS}`;
  const at = new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
  let n = 0;
  const make = <T extends EventType>(type: T, data: EventDataByType[T]) =>
    envelope({
      id: deterministicId('work-bench', conversationId, n++),
      type,
      data,
      workspaceId: 'default',
      customerId,
      occurredAt: at,
      recordedAt: at,
      source: 'bench',
    });
  const priority = PRIORITIES[i % 4];
  const events: JourneyEvent[] = [
    make('ConversationStarted', { conversationId, channel: 'email', subject: `Question ${i}` }),
    make('CustomerReplied', {
      conversationId,
      messageId: `msg-${i}`,
      channel: 'email',
      body: `Hello, this is message ${i} about my account.`,
    }),
    make('ConversationAssigned', { conversationId, team: `team-${i % 10}`, assignee: member, priority, reason: 'least-loaded' }),
  ];
  if (i % 2 === 1 || member === MEMBER)
    events.push(
      make('TimerScheduled', {
        timerId: `sla-${i}`,
        dueAt: new Date(Date.UTC(2026, 0, 2) + (i % 997) * 60_000).toISOString(),
        purpose: 'sla',
        payload: { subject: 'conversation', id: conversationId, target: 'first-response', team: `team-${i % 10}`, priority },
      }),
    );
  if (member !== MEMBER && i % 3 === 0) events.push(make('ConversationResolved', { conversationId, by: member }));
  return { customerId, events };
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });
function get(url: string, path: string): Promise<{ status: number; ms: number; body: string }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const u = new URL(path, url);
    const req = request(
      { host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, agent, headers: { authorization: `Bearer ${ADMIN_KEY}` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Number(process.hrtime.bigint() - started) / 1e6, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export async function run(options: { conversations?: number; requests?: number } = {}): Promise<WorkQueryFigures> {
  const conversations = options.conversations ?? 100_000;
  const requests = options.requests ?? 1000;
  const dataDir = mkdtempSync(join(tmpdir(), 'journey-work-bench-'));
  try {
    // 1. the engine, on an empty store (its start-up does not wait on the history)
    const engine = await startEngine({ JOURNEY_DATA_DIR: dataDir, JOURNEY_RATE_LIMIT_PER_SECOND: '0' });
    try {
      // 2. the history, appended to the engine's SQLite file from this process in large appendMany batches
      const loadStarted = Date.now();
      const db = openSqliteDatabase(join(dataDir, SQLITE_FILES.events), { synchronous: 'NORMAL' });
      const log = new SqliteEventStore(db);
      let events = 0;
      let batch: AppendRequest[] = [];
      for (let i = 0; i < conversations; i++) {
        const { customerId, events: es } = conversationEvents(i);
        batch.push({ streamId: customerStreamId('default', customerId), events: es });
        events += es.length;
        if (batch.length === 2000 || i === conversations - 1) {
          await log.appendMany(batch);
          batch = [];
        }
      }
      const head = await log.headPosition();
      db.close();
      const loadSeconds = (Date.now() - loadStarted) / 1000;

      // 3. the engine projects them
      const projectStarted = Date.now();
      for (;;) {
        const res = await get(engine.url, '/v1/admin/projections');
        // every projection at the head: the queries are measured on an engine that is done with the history
        const { projections } = JSON.parse(res.body) as { projections: Array<{ name: string; position: string }> };
        if (projections.some((p) => p.name === 'work') && projections.every((p) => BigInt(p.position) >= head)) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      const projectSeconds = (Date.now() - projectStarted) / 1000;
      // and the reactors (stage, SLA, assignment, triggers: on the API's thread) are through it too, the log still:
      // the queue is measured on an engine at rest with 100k conversations, not one still catching up
      const settleStarted = Date.now();
      const logDb = openSqliteDatabase(join(dataDir, SQLITE_FILES.events), { synchronous: 'NORMAL' });
      try {
        // at rest: the log's head and every checkpoint unchanged over 1.5 s (a filtered subscriber's checkpoint stays
        // at the last event of its types, so "at the head" is not the test)
        const snapshot = () =>
          JSON.stringify([
            logDb.prepare('SELECT MAX(position) AS p FROM events').get(),
            logDb.prepare('SELECT name, position FROM checkpoints ORDER BY name').all(),
          ]);
        for (let still = 0, last = snapshot(); still < 3;) {
          await new Promise((r) => setTimeout(r, 500));
          const now = snapshot();
          still = now === last ? still + 1 : 0;
          last = now;
        }
      } finally {
        logDb.close();
      }
      const settleSeconds = (Date.now() - settleStarted) / 1000;

      // 4. the queries
      const full = `/v1/work?assignee=${MEMBER}&limit=500`;
      const first = await get(engine.url, full);
      const items = (JSON.parse(first.body) as { items: unknown[] }).items.length;
      if (first.status !== 200 || items !== MEMBER_ITEMS)
        throw new Error(`GET ${full} answered ${first.status} with ${items} items: ${first.body.slice(0, 200)}`);
      for (let i = 0; i < 50; i++) await get(engine.url, full); // warm-up
      const fullMs: number[] = [];
      const pageMs: number[] = [];
      for (let i = 0; i < requests; i++) {
        fullMs.push((await get(engine.url, full)).ms);
        pageMs.push((await get(engine.url, `/v1/work?assignee=${MEMBER}`)).ms);
      }
      const rmDb = openSqliteDatabase(join(dataDir, SQLITE_FILES.readModels), { synchronous: 'NORMAL' });
      const store = new SqliteReadModelStore(rmDb);
      const storeMs: number[] = [];
      for (let i = 0; i < requests + 50; i++) {
        const started = process.hrtime.bigint();
        const docs = await store.find<WorkDoc>(
          WORK,
          { workspaceId: 'default', assignee: MEMBER, open: 1 },
          { orderBy: ['sortKey'], limit: 501 },
        );
        if (i >= 50) storeMs.push(Number(process.hrtime.bigint() - started) / 1e6);
        if (docs.length !== MEMBER_ITEMS) throw new Error(`the store found ${docs.length} items`);
      }
      rmDb.close();
      const http = stats(fullMs);
      const raw = stats(storeMs);
      return {
        bench: 'work-query',
        conversations,
        events,
        memberOpenItems: items,
        loadSeconds: +loadSeconds.toFixed(1),
        projectSeconds: +projectSeconds.toFixed(1),
        settleSeconds: +settleSeconds.toFixed(1),
        requests,
        httpFullMs: http,
        httpPageMs: stats(pageMs),
        storeFullMs: raw,
        ratioHttpToStoreP50: +(http.p50 / raw.p50).toFixed(2),
        targetP99Ms: TARGET_P99_MS,
        meetsTargets: http.p99 < TARGET_P99_MS,
      };
    } finally {
      await engine.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const { values } = parseArgs({
    options: { conversations: { type: 'string' }, requests: { type: 'string' }, short: { type: 'boolean' } },
  });
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  run({ conversations: num(values.conversations), requests: num(values.requests) ?? (values.short ? 200 : undefined) })
    .then((figures) => console.log(JSON.stringify(figures, null, 2)))
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
}
