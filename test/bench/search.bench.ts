/**
 * Customer search at scale (issue 12, bar 2): 100,000 customers with 10 traits each; `GET /v1/customers?trait.<x>=<v>
 * &limit=50` paged with the cursor must answer in p99 < 50 ms on SQLite. Reported beside it, from the same run:
 *   - SQLite: the same pages from the read-model store in this process (SqliteReadModelStore.search: no HTTP, no JSON);
 *   - MongoDB (when MONGODB_URL is set; FerretDB in the test setup): the endpoint's store query
 *     (MongoReadModelStore.search) against a raw `find` with the same filter on the same collection
 *     (`{workspaceId, 'traits.<x>': <v>}` sorted by customerId, paged by customerId), p50/p99 both.
 * Loading: SQLite — one CustomerIdentified (10 traits) per customer appended straight to the engine's SQLite log in
 * appendMany batches, projected by the built engine as it would (every projection); MongoDB — the same events applied
 * to a fresh database through the store (MongoReadModelStore.applyBatch of the customers projection), no HTTP.
 * Queries: a trait matching 1 in 5 customers (`plan=pro`: 20,000) and one matching 1 in 50 (`csm=csm-7`: 2,000), each
 * request the next page of a walk of up to 20 pages from the first one (then again from the first).
 * Run: npm run build && node dist/test/bench/search.bench.js [--customers N --requests N --mongo-customers N
 * --mongo-requests N --mongo-only --short]. FerretDB 1.24 scans the collection for every query (no secondary index is
 * used), so MongoDB's collection defaults to 10,000 customers (MONGO_DEFAULT_CUSTOMERS); --mongo-customers sets it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { customerStreamId, deterministicId, envelope, type JourneyEvent, type RecordedEvent } from '@journey/domain';
import { SQLITE_FILES, SqliteEventStore, openSqliteDatabase, type AppendRequest } from '@journey/event-store';
import {
  CUSTOMERS,
  CUSTOMERS_COLLECTION,
  MongoReadModelStore,
  SqliteReadModelStore,
  customersProjection,
  type ReadModelStore,
  type SearchQuery,
} from '@journey/read-models';
import { ADMIN_KEY, percentile, startEngine } from './harness';

export const TARGET_P99_MS = 50;
/**
 * MongoDB's collection by default: FerretDB 1.24 (the test server) scans the collection for every query and loads it at
 * a few hundred documents a second, so 100,000 would take the better part of an hour; --mongo-customers sets it.
 */
const MONGO_DEFAULT_CUSTOMERS = 10_000;
const WORKSPACE = 'default';
const LIMIT = 50;
const WALK = 20;
const PLANS = ['free', 'starter', 'pro', 'business', 'enterprise'];

type Stats = { p50: number; p99: number; max: number };
const stats = (xs: number[]): Stats => {
  const s = [...xs].sort((a, b) => a - b);
  const r = (v: number) => +v.toFixed(2);
  return { p50: r(percentile(s, 50)), p99: r(percentile(s, 99)), max: r(s[s.length - 1] ?? NaN) };
};

/** Customer i's identify: 10 traits of every kind (strings of a few values, numbers, a date, a boolean, unique strings). */
function identify(i: number): JourneyEvent {
  const customerId = `cust-${String(i).padStart(6, '0')}`;
  const at = new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
  return envelope({
    id: deterministicId('search-bench', customerId),
    type: 'CustomerIdentified',
    data: {
      userId: customerId,
      traits: {
        plan: PLANS[i % 5],
        csm: `csm-${i % 50}`,
        region: ['eu', 'us', 'apac', 'latam'][i % 4],
        industry: `industry-${i % 20}`,
        seats: 1 + (i % 500),
        mrr: (i % 1000) * 10,
        signedUpAt: new Date(Date.UTC(2024, 0, 1) + (i % 700) * 86_400_000).toISOString(),
        vip: i % 10 === 0,
        email: `${customerId}@example.com`,
        company: `Company ${i % 30_000}`,
      },
    },
    workspaceId: WORKSPACE,
    customerId,
    occurredAt: at,
    recordedAt: at,
    source: 'bench',
  });
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

interface Filter {
  trait: string;
  value: string;
  matches: number;
}

/** plan=pro: 1 customer in 5 (i % 5 === 2); csm=csm-7: 1 in 50 (i % 50 === 7). */
const filtersFor = (customers: number): Filter[] => [
  { trait: 'plan', value: 'pro', matches: Math.floor((customers + 2) / 5) },
  { trait: 'csm', value: 'csm-7', matches: Math.floor((customers + 42) / 50) },
];

/** `requests` timed pages of the walk: each call gets the cursor of the page before (undefined: the first page). */
async function walk<C>(requests: number, page: (cursor: C | undefined) => Promise<{ ms: number; next: C | undefined; items: number }>) {
  const ms: number[] = [];
  let cursor: C | undefined;
  let depth = 0;
  for (let i = 0; i < requests; i++) {
    const r = await page(cursor);
    if (r.items === 0 || (r.items !== LIMIT && r.next !== undefined)) throw new Error(`a page of ${r.items} customers (expected ${LIMIT})`);
    ms.push(r.ms);
    depth += 1;
    cursor = depth < WALK ? r.next : undefined;
    if (cursor === undefined) depth = 0;
  }
  return stats(ms);
}

const storeQuery = (f: Filter, after?: SearchQuery['after']): SearchQuery => ({
  partition: WORKSPACE,
  terms: [{ field: 'traits', name: f.trait, range: { eq: f.value } }],
  order: { by: 'key', direction: 'asc' },
  limit: LIMIT,
  ...(after && { after }),
});

async function storeWalk(store: ReadModelStore, f: Filter, requests: number): Promise<Stats> {
  return walk<SearchQuery['after']>(requests, async (after) => {
    const started = process.hrtime.bigint();
    const page = await store.search(CUSTOMERS_COLLECTION, storeQuery(f, after));
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const last = page.hits[page.hits.length - 1];
    return { ms, items: page.hits.length, next: page.more ? { value: last.sortValue, key: last.key } : undefined };
  });
}

export interface SearchFigures {
  bench: 'search';
  customers: number;
  traitsPerCustomer: 10;
  requests: number;
  sqlite: {
    loadSeconds: number;
    projectSeconds: number;
    queries: Record<string, { matches: number; httpMs: Stats; storeMs: Stats; countTrueMs: Stats }>;
  };
  mongodb?:
    | {
        server: string;
        customers: number;
        loadSeconds: number;
        requests: number;
        queries: Record<string, { matches: number; storeMs: Stats; rawFindMs: Stats; ratioStoreToRawP50: number }>;
      }
    | 'SKIPPED (no MONGODB_URL)';
  targetP99Ms: number;
  meetsTargets: boolean;
}

export async function run(
  options: { customers?: number; requests?: number; mongoCustomers?: number; mongoRequests?: number; mongoOnly?: boolean } = {},
): Promise<SearchFigures> {
  const customers = options.customers ?? 100_000;
  const requests = options.requests ?? 1000;
  const filters = filtersFor(customers);
  const dataDir = mkdtempSync(join(tmpdir(), 'journey-search-bench-'));
  const figures: SearchFigures = {
    bench: 'search',
    customers,
    traitsPerCustomer: 10,
    requests,
    sqlite: { loadSeconds: 0, projectSeconds: 0, queries: {} },
    targetP99Ms: TARGET_P99_MS,
    meetsTargets: false,
  };
  try {
    const engine = options.mongoOnly ? undefined : await startEngine({ JOURNEY_DATA_DIR: dataDir, JOURNEY_RATE_LIMIT_PER_SECOND: '0' });
    try {
      if (!engine) throw new SkipSqlite();
      const loadStarted = Date.now();
      const db = openSqliteDatabase(join(dataDir, SQLITE_FILES.events), { synchronous: 'NORMAL' });
      const log = new SqliteEventStore(db);
      let batch: AppendRequest[] = [];
      for (let i = 0; i < customers; i++) {
        const e = identify(i);
        batch.push({ streamId: customerStreamId(WORKSPACE, e.metadata.customerId), events: [e] });
        if (batch.length === 2000 || i === customers - 1) {
          await log.appendMany(batch);
          batch = [];
        }
      }
      const head = await log.headPosition();
      db.close();
      figures.sqlite.loadSeconds = +((Date.now() - loadStarted) / 1000).toFixed(1);
      const projectStarted = Date.now();
      for (;;) {
        const res = await get(engine.url, '/v1/admin/projections');
        const { projections } = JSON.parse(res.body) as { projections: Array<{ name: string; position: string }> };
        if (projections.some((p) => p.name === CUSTOMERS && BigInt(p.position) >= head)) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      figures.sqlite.projectSeconds = +((Date.now() - projectStarted) / 1000).toFixed(1);
      console.error(
        `sqlite: ${customers} customers appended in ${figures.sqlite.loadSeconds} s, projected in ${figures.sqlite.projectSeconds} s`,
      );
      // and the reactors are through the history too: the queries meet an engine at rest (the log's head and every
      // checkpoint unchanged over 1.5 s), not one still catching up
      const logDb = openSqliteDatabase(join(dataDir, SQLITE_FILES.events), { synchronous: 'NORMAL' });
      try {
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

      const rmDb = openSqliteDatabase(join(dataDir, SQLITE_FILES.readModels), { synchronous: 'NORMAL' });
      const store = new SqliteReadModelStore(rmDb);
      try {
        for (const f of filters) {
          const path = (cursor?: string) => `/v1/customers?trait.${f.trait}=${f.value}&limit=${LIMIT}${cursor ? `&cursor=${cursor}` : ''}`;
          const check = await get(engine.url, `/v1/customers?trait.${f.trait}=${f.value}&limit=1&count=true`);
          const { total } = JSON.parse(check.body) as { total: number };
          if (check.status !== 200 || total !== f.matches)
            throw new Error(`${path()} answered ${check.status}: ${check.body.slice(0, 300)}`);
          for (let i = 0; i < 50; i++) await get(engine.url, path()); // warm-up
          const httpMs = await walk<string>(requests, async (cursor) => {
            const res = await get(engine.url, path(cursor));
            const page = JSON.parse(res.body) as { items: unknown[]; nextCursor?: string };
            if (res.status !== 200) throw new Error(`${path(cursor)} answered ${res.status}: ${res.body.slice(0, 300)}`);
            return { ms: res.ms, items: page.items.length, next: page.nextCursor };
          });
          for (let i = 0; i < 50; i++) await store.search(CUSTOMERS_COLLECTION, storeQuery(f)); // warm-up
          const storeMs = await storeWalk(store, f, requests);
          const countMs: number[] = [];
          for (let i = 0; i < Math.min(100, requests); i++) {
            const started = process.hrtime.bigint();
            await store.search(CUSTOMERS_COLLECTION, { ...storeQuery(f), count: true });
            countMs.push(Number(process.hrtime.bigint() - started) / 1e6);
          }
          figures.sqlite.queries[`trait.${f.trait}=${f.value}`] = { matches: f.matches, httpMs, storeMs, countTrueMs: stats(countMs) };
          console.error(`sqlite trait.${f.trait}=${f.value}: ${JSON.stringify(figures.sqlite.queries[`trait.${f.trait}=${f.value}`])}`);
        }
      } finally {
        rmDb.close();
      }
    } catch (error) {
      if (!(error instanceof SkipSqlite)) throw error;
    } finally {
      await engine?.stop();
    }
    const measured = Object.values(figures.sqlite.queries);
    figures.meetsTargets = measured.length > 0 && measured.every((q) => q.httpMs.p99 < TARGET_P99_MS);

    const url = process.env.MONGODB_URL;
    const mongoCustomers = options.mongoCustomers ?? Math.min(customers, MONGO_DEFAULT_CUSTOMERS);
    figures.mongodb = url
      ? await mongo(url, mongoCustomers, options.mongoRequests ?? 100, filtersFor(mongoCustomers))
      : 'SKIPPED (no MONGODB_URL)';
    return figures;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** `--mongo-only`: the SQLite part is left out (its figures stay empty). */
class SkipSqlite extends Error {}

async function mongo(url: string, customers: number, requests: number, filters: Filter[]): Promise<SearchFigures['mongodb']> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000 });
  const db = client.db(`bench_search_${process.pid}`);
  try {
    const info = await db.command({ buildInfo: 1 });
    const server = info.ferretdbVersion ? `FerretDB ${String(info.ferretdbVersion)}` : `MongoDB ${String(info.version)}`;
    const store = new MongoReadModelStore(db);
    await store.prepare(customersProjection);
    const loadStarted = Date.now();
    for (let i = 0; i < customers; i += 2000) {
      const events: RecordedEvent[] = [];
      for (let j = i; j < Math.min(customers, i + 2000); j++) {
        const e = identify(j);
        events.push({ ...e, streamId: customerStreamId(WORKSPACE, e.metadata.customerId), revision: 0n, position: BigInt(j + 1) });
      }
      await store.applyBatch(customersProjection, events);
    }
    const loadSeconds = +((Date.now() - loadStarted) / 1000).toFixed(1);
    console.error(`${server}: ${customers} customers loaded through the store in ${loadSeconds} s`);
    const entry = await db.collection('read_models').findOne({ _id: CUSTOMERS } as never);
    const collection = db.collection((entry as unknown as { collections: Record<string, string> }).collections[CUSTOMERS]);
    const queries: Record<string, { matches: number; storeMs: Stats; rawFindMs: Stats; ratioStoreToRawP50: number }> = {};
    for (const f of filters) {
      for (let i = 0; i < 5; i++) await store.search(CUSTOMERS_COLLECTION, storeQuery(f)); // warm-up
      const storeMs = await storeWalk(store, f, requests);
      const rawFindMs = await walk<string>(requests, async (after) => {
        const started = process.hrtime.bigint();
        const docs = await collection
          .find(
            { workspaceId: WORKSPACE, [`traits.${f.trait}`]: f.value, ...(after && { customerId: { $gt: after } }) },
            { sort: { customerId: 1 } },
          )
          .limit(LIMIT + 1)
          .toArray();
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        const page = docs.slice(0, LIMIT);
        return { ms, items: page.length, next: docs.length > LIMIT ? String(page[page.length - 1].customerId) : undefined };
      });
      queries[`trait.${f.trait}=${f.value}`] = {
        matches: f.matches,
        storeMs,
        rawFindMs,
        ratioStoreToRawP50: +(storeMs.p50 / rawFindMs.p50).toFixed(2),
      };
    }
    return { server, customers, loadSeconds, requests, queries };
  } finally {
    await db.dropDatabase().catch(() => undefined);
    await client.close();
  }
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      customers: { type: 'string' },
      requests: { type: 'string' },
      'mongo-customers': { type: 'string' },
      'mongo-requests': { type: 'string' },
      'mongo-only': { type: 'boolean' },
      short: { type: 'boolean' },
    },
  });
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  run({
    customers: num(values.customers),
    requests: num(values.requests) ?? (values.short ? 200 : undefined),
    mongoCustomers: num(values['mongo-customers']),
    mongoRequests: num(values['mongo-requests']) ?? (values.short ? 30 : undefined),
    mongoOnly: values['mongo-only'],
  })
    .then((figures) => {
      console.log(JSON.stringify(figures, null, 2));
      if (!figures.meetsTargets) process.exitCode = 1;
    })
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
}
