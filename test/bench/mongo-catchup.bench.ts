/**
 * Projection catch-up into the MongoDB-compatible server (MONGODB_URL): the customers projection applies a history
 * batch by batch through MongoReadModelStore (read the batch's documents, guarded writes, checkpoint), against the
 * ceiling of the raw driver writing the same documents (replaceOne upserts by _id, in bulkWrite commands of the same
 * size, as many in flight as the adapter keeps on that server) on the same server in the same run. Target: at least 50% of the
 * raw rate.
 *
 *   node dist/test/bench/mongo-catchup.bench.js [--events 100000] [--customers 100] [--batch 2000]
 */
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { MongoClient, type AnyBulkWriteOperation } from 'mongodb';
import { STAGES, type RecordedEvent } from '@journey/domain';
import {
  COMMANDS_IN_FLIGHT,
  customersProjection,
  docKey,
  MongoReadModelStore,
  toMongoDoc,
  WRITES_PER_COMMAND,
  type StoredDoc,
  type WriteGuard,
} from '@journey/read-models';

const TARGET_RATIO = 0.5;

export interface MongoCatchUpFigures {
  bench: 'mongo-catchup';
  server: string;
  guard: WriteGuard;
  events: number;
  customers: number;
  batchSize: number;
  documentWrites: number;
  adapterEventsPerSecond: number;
  rawEventsPerSecond: number;
  ratio: number;
  targetRatio: number;
  meetsTargets: boolean;
}

/** A seeded history of customer events in global order. */
function history(events: number, customers: number): RecordedEvent[] {
  let x = 12345;
  const rnd = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const out: RecordedEvent[] = [];
  for (let i = 1; i <= events; i++) {
    const customerId = `c${Math.floor(rnd() * customers)}`;
    const at = new Date(Date.UTC(2025, 4, 1) + i * 1000).toISOString();
    const r = rnd();
    const [type, data] =
      r < 0.1
        ? ['CustomerIdentified', { userId: customerId, traits: { plan: r < 0.05 ? 'pro' : 'free', seen: i } }]
        : r < 0.6
          ? ['InteractionRecorded', { event: `Feature ${Math.floor(rnd() * 8)}`, properties: { i } }]
          : r < 0.8
            ? ['PageViewed', { kind: 'page', name: 'home', properties: {} }]
            : r < 0.85
              ? ['StageChanged', { from: null, to: STAGES[Math.floor(rnd() * STAGES.length)], reason: 'bench' }]
              : ['MessageSent', { messageId: `m${i}`, channel: 'email' }];
    out.push({
      id: `e${i}`,
      type,
      data,
      metadata: { workspaceId: 'bench', customerId, occurredAt: at, recordedAt: at, source: 'bench', schemaVersion: 1 },
      streamId: `customer-bench-${customerId}`,
      revision: 0n,
      position: BigInt(i),
    } as RecordedEvent);
  }
  return out;
}

export async function run(
  options: { events?: number; customers?: number; batchSize?: number; url?: string } = {},
): Promise<MongoCatchUpFigures> {
  const url = options.url ?? process.env.MONGODB_URL;
  if (!url) throw new Error('MONGODB_URL is not set (scripts/servers/mongo.sh start; eval "$(scripts/servers/mongo.sh env)")');
  const events = options.events ?? 100_000;
  const customers = options.customers ?? 100;
  const batchSize = options.batchSize ?? 2000;
  const log = history(events, customers);
  const batches: RecordedEvent[][] = [];
  for (let i = 0; i < log.length; i += batchSize) batches.push(log.slice(i, i + batchSize));

  // The documents each batch writes, computed in memory: what the raw driver writes.
  const memory = new Map<string, StoredDoc>();
  const rawBatches = batches.map((batch) => {
    const puts = customersProjection.apply(batch, (ref) => memory.get(docKey(ref)));
    for (const p of puts) memory.set(docKey(p), p);
    return puts.map((p) => toMongoDoc(p));
  });
  const documentWrites = rawBatches.reduce((n, b) => n + b.length, 0);

  const client = new MongoClient(url);
  const adapterDb = client.db(`bench_catchup_${process.pid}`);
  const rawDb = client.db(`bench_raw_${process.pid}`);
  try {
    await Promise.all([adapterDb.dropDatabase(), rawDb.dropDatabase()]);
    const info = await adapterDb.command({ buildInfo: 1 });
    const server = info.ferretdbVersion
      ? `FerretDB${info.ferretdbVersion === 'unknown' ? '' : ` ${info.ferretdbVersion}`} (MongoDB ${info.version} compatible)`
      : `MongoDB ${info.version}`;
    const guard: WriteGuard = info.ferretdbVersion ? 'client' : 'server';
    const store = new MongoReadModelStore(adapterDb);
    await store.prepare(customersProjection);
    let started = process.hrtime.bigint();
    for (const batch of batches) await store.applyBatch(customersProjection, batch);
    const adapterSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    if ((await store.checkpoint(customersProjection.name)) !== BigInt(events))
      throw new Error('the adapter did not reach the end of the history');
    const sample = [...memory.values()][0];
    if (!isDeepStrictEqual((await store.get(customersProjection.name, sample.id))?.doc, JSON.parse(JSON.stringify(sample.doc))))
      throw new Error('adapter document differs');

    const raw = rawDb.collection('customers');
    await raw.createIndex({ workspaceId: 1, stage: 1 });
    started = process.hrtime.bigint();
    for (const docs of rawBatches) {
      const ops: AnyBulkWriteOperation[] = docs.map((doc) => ({
        replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true },
      }));
      const commands: AnyBulkWriteOperation[][] = [];
      for (let i = 0; i < ops.length; i += WRITES_PER_COMMAND) commands.push(ops.slice(i, i + WRITES_PER_COMMAND));
      const worker = async () => {
        for (let command = commands.shift(); command; command = commands.shift()) await raw.bulkWrite(command, { ordered: false });
      };
      await Promise.all(Array.from({ length: COMMANDS_IN_FLIGHT[guard] }, worker));
    }
    const rawSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    if ((await raw.countDocuments()) !== memory.size) throw new Error('raw run wrote a different number of documents');

    const adapterEventsPerSecond = Math.round(events / adapterSeconds);
    const rawEventsPerSecond = Math.round(events / rawSeconds);
    const ratio = +(adapterEventsPerSecond / rawEventsPerSecond).toFixed(2);
    return {
      bench: 'mongo-catchup',
      server,
      guard,
      events,
      customers,
      batchSize,
      documentWrites,
      adapterEventsPerSecond,
      rawEventsPerSecond,
      ratio,
      targetRatio: TARGET_RATIO,
      meetsTargets: ratio >= TARGET_RATIO,
    };
  } finally {
    await Promise.all([adapterDb.dropDatabase(), rawDb.dropDatabase()]).catch(() => undefined);
    await client.close();
  }
}

if (require.main === module) {
  const { values } = parseArgs({ options: { events: { type: 'string' }, customers: { type: 'string' }, batch: { type: 'string' } } });
  const num = (v?: string) => (v ? Number(v) : undefined);
  run({ events: num(values.events), customers: num(values.customers), batchSize: num(values.batch) })
    .then((figures) => console.log(JSON.stringify(figures, null, 2)))
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
}
