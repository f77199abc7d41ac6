/**
 * Backtest over a large history: 1,000,000 stored events (10,000 customers, identify / track / page over 90 days) in a
 * temporary SQLite store, then a library trigger replayed over all of it. Target: < 30 s per backtest.
 * Run: npm run build && node dist/test/bench/backtest.bench.js [--events N] [--customers N] [--trigger id ...]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { assertValidTrigger, customerStreamId, type BacktestReport, type JourneyEvent } from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase, type AppendRequest } from '@journey/event-store';
import { runBacktest } from '@journey/reactors';
import { ROOT } from './harness';

const TARGET_SECONDS = 30;
const DAY = 86_400_000;
const START = Date.UTC(2025, 0, 1);
const FEATURES = ['dashboards', 'reports', 'alerts', 'exports', 'api', 'sso', 'billing'];
const PAGES = ['Home', 'Pricing', 'Docs', 'Settings', 'Projects'];

/** Deterministic pseudo-random numbers (the same history every run). */
function random(seed: number) {
  return () => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 0x7fffffff;
}

/**
 * The i-th event of the history, in arrival order: a customer is identified at its first event, then active with a
 * skew (some customers far more than others); 5% identifies (traits), 15% page views, the rest tracks, ~2% of the
 * customers' tracks are "Activated"; a StageChanged to active at each customer's fifth event.
 */
export function* history(events: number, customers: number): Generator<JourneyEvent> {
  const rnd = random(7);
  const seen = new Map<number, number>();
  const span = 90 * DAY;
  for (let i = 0; i < events; i++) {
    const at = new Date(START + Math.floor((i / events) * span)).toISOString();
    // skewed activity: squaring a uniform number favours low customer numbers
    const c = Math.floor(rnd() * rnd() * customers);
    const customerId = `user-${c}`;
    const metadata = { workspaceId: 'default', customerId, occurredAt: at, recordedAt: at, source: 'http', schemaVersion: 1 };
    const id = `bench-${i}`;
    const r = rnd();
    const n = (seen.get(c) ?? 0) + 1;
    seen.set(c, n);
    if (n === 5) {
      // what the stage reactor records once a customer is up and running
      yield {
        id,
        type: 'StageChanged',
        data: { from: 'onboarding', to: 'active', reason: 'fifth interaction' },
        metadata: { ...metadata, source: 'reactor:stage' },
      };
    } else if (n === 1 || r < 0.05) {
      const traits = {
        email: `${customerId}@example.com`,
        name: `User ${c}`,
        plan: c % 3 ? 'pro' : 'free',
        timezone: c % 2 ? 'Europe/Paris' : 'America/New_York',
      };
      yield { id, type: 'CustomerIdentified', data: { userId: customerId, traits }, metadata };
    } else if (r < 0.2) {
      yield {
        id,
        type: 'PageViewed',
        data: { kind: 'page', name: PAGES[i % PAGES.length], properties: { path: `/${PAGES[i % PAGES.length].toLowerCase()}` } },
        metadata,
      };
    } else {
      const event = r < 0.22 ? 'Activated' : r < 0.5 ? 'Logged In' : 'Feature Used';
      yield {
        id,
        type: 'InteractionRecorded',
        data: { event, properties: { feature: FEATURES[i % FEATURES.length], count: i % 5, plan: c % 3 ? 'pro' : 'free' } },
        metadata,
      };
    }
  }
}

export async function fill(store: SqliteEventStore, events: number, customers: number): Promise<number> {
  const started = Date.now();
  let batch = new Map<string, JourneyEvent[]>();
  let size = 0;
  const flush = async () => {
    const requests: AppendRequest[] = [...batch].map(([streamId, evs]) => ({ streamId, events: evs }));
    await store.appendMany(requests);
    batch = new Map();
    size = 0;
  };
  for (const e of history(events, customers)) {
    const streamId = customerStreamId('default', e.metadata.customerId);
    const list = batch.get(streamId);
    if (list) list.push(e);
    else batch.set(streamId, [e]);
    if (++size >= 50_000) await flush();
  }
  if (size) await flush();
  return (Date.now() - started) / 1000;
}

export interface BacktestFigures {
  bench: 'backtest';
  events: number;
  customers: number;
  fillSeconds: number;
  runs: Array<{
    trigger: string;
    seconds: number;
    eventsPerSec: number;
    peakHeapMb: number;
    entered: number;
    sent: Record<string, number>;
    suppressed: Record<string, number>;
    exits: Record<string, number>;
  }>;
  targetSeconds: number;
  meetsTargets: boolean;
}

export async function run(options: { events?: number; customers?: number; triggers?: string[] } = {}): Promise<BacktestFigures> {
  const events = options.events ?? 1_000_000;
  const customers = options.customers ?? 10_000;
  const triggers = options.triggers ?? ['onboarding-activation-nudge', 'usage-inactivity'];
  const dir = mkdtempSync(join(tmpdir(), 'journey-backtest-bench-'));
  const db = openSqliteDatabase(join(dir, 'journey.db'), { synchronous: 'NORMAL' });
  const store = new SqliteEventStore(db);
  try {
    const fillSeconds = await fill(store, events, customers);
    const runs: BacktestFigures['runs'] = [];
    for (const id of triggers) {
      const definition = assertValidTrigger(parse(readFileSync(join(ROOT, 'triggers/library', `${id}.yaml`), 'utf8')));
      global.gc?.();
      let peakHeap = process.memoryUsage().heapUsed;
      const started = process.hrtime.bigint();
      const report: BacktestReport = await runBacktest(store, {
        workspaceId: 'default',
        definition,
        to: new Date(START + 91 * DAY),
        onProgress: () => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)),
      });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      runs.push({
        trigger: id,
        seconds: +seconds.toFixed(2),
        eventsPerSec: Math.round(report.eventsReplayed / seconds),
        peakHeapMb: Math.round(peakHeap / 2 ** 20),
        entered: report.entered.runs,
        sent: report.messages.sent,
        suppressed: report.messages.suppressed,
        exits: report.exits,
      });
      if (report.eventsReplayed !== events) throw new Error(`replayed ${report.eventsReplayed} of ${events} events`);
    }
    return {
      bench: 'backtest',
      events,
      customers,
      fillSeconds: +fillSeconds.toFixed(1),
      runs,
      targetSeconds: TARGET_SECONDS,
      meetsTargets: runs.every((r) => r.seconds < TARGET_SECONDS),
    };
  } finally {
    await store.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const { values } = parseArgs({
    options: { events: { type: 'string' }, customers: { type: 'string' }, trigger: { type: 'string', multiple: true } },
  });
  run({
    events: values.events ? Number(values.events) : undefined,
    customers: values.customers ? Number(values.customers) : undefined,
    triggers: values.trigger,
  })
    .then((figures) => console.log(JSON.stringify(figures, null, 2)))
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
}
