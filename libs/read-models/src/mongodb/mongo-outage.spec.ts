import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import type { CustomerState } from '@journey/domain';
import { SqliteEventStore, listDeadLetters, openSqliteDatabase } from '@journey/event-store';
import { describeWithServer } from '../../../integration/src/testing/servers';
import { appendAll, event } from '../contract/read-model-store.contract';
import { CUSTOMERS, customerDocId, customersProjection } from '../projections';
import { ProjectionRunner } from '../runner';
import { MongoReadModelStore } from './mongo-read-model-store';

/** A TCP proxy on 127.0.0.1 in front of the server: `cut` drops every connection and refuses new ones, `restore` lets them through. */
class CuttableProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private open = true;

  constructor(target: { host: string; port: number }) {
    this.server = createServer((client) => {
      if (!this.open) return void client.destroy();
      const upstream = connect(target.port, target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as { port: number }).port;
  }

  cut(): void {
    this.open = false;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.open = true;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Issue 9, item 6: after a MongoDB outage the projector used to stop for good (its failed retry was not rescheduled). */
describeWithServer('ProjectionRunner through a MongoDB outage', 'MONGODB_URL', (url) => {
  const dir = mkdtempSync(join(tmpdir(), 'journey-mongo-outage-'));
  const target = new URL(url);
  const dbName = `outage_${process.pid}`;
  let proxy: CuttableProxy;
  let client: MongoClient;
  let direct: MongoClient;

  beforeAll(async () => {
    proxy = new CuttableProxy({ host: target.hostname, port: Number(target.port || 27017) });
    const port = await proxy.listen();
    client = new MongoClient(`mongodb://127.0.0.1:${port}/${dbName}`, {
      serverSelectionTimeoutMS: 300,
      connectTimeoutMS: 300,
      socketTimeoutMS: 2_000,
      heartbeatFrequencyMS: 500,
      directConnection: true,
    });
    direct = new MongoClient(url, { serverSelectionTimeoutMS: 10_000 });
  });
  afterAll(async () => {
    await direct.db(dbName).dropDatabase();
    await Promise.all([client.close(true), direct.close()]);
    await proxy.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('retries while MongoDB is unreachable, reports the failure, and recovers by itself once it is back: lastError cleared, nothing lost or quarantined', async () => {
    const events = new SqliteEventStore(openSqliteDatabase(join(dir, 'events.db'), { synchronous: 'NORMAL' }));
    const store = new MongoReadModelStore(client.db(dbName), client);
    const errors: Error[] = [];
    const runner = new ProjectionRunner(customersProjection, events, store, {
      retryDelayMs: 50,
      maxRetryDelayMs: 200,
      coalesceMs: 0,
      onError: (e) => errors.push(e),
    });
    await runner.start();
    try {
      await appendAll(events, [event('a', 'InteractionRecorded', { event: 'x', properties: {} })]);
      await runner.waitFor(await events.headPosition(), 20_000);

      proxy.cut();
      await appendAll(events, [
        event('a', 'InteractionRecorded', { event: 'y', properties: {} }),
        event('b', 'InteractionRecorded', { event: 'y', properties: {} }),
      ]);
      // Failing: the status (what /health reports) says so, and it keeps retrying (more than one failed attempt).
      for (let i = 0; i < 1000 && errors.length < 4; i++) await new Promise((r) => setTimeout(r, 10));
      expect(errors.length).toBeGreaterThanOrEqual(4);
      expect(runner.status()[0].lastError).toEqual(expect.any(String));
      expect(runner.position).toBeLessThan(await events.headPosition());

      proxy.restore();
      await runner.waitFor(await events.headPosition(), 30_000);
      expect(runner.status()[0].lastError).toBeUndefined();
      const docs = direct.db(dbName);
      expect((await new MongoReadModelStore(docs).get<CustomerState>(CUSTOMERS, customerDocId('w', 'a')))?.doc.interactions.total).toBe(2);
      expect((await new MongoReadModelStore(docs).get<CustomerState>(CUSTOMERS, customerDocId('w', 'b')))?.doc.interactions.total).toBe(1);
      expect(await listDeadLetters(events, 'w')).toEqual([]);
    } finally {
      await runner.stop();
      await events.close();
    }
  });
});
