import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { MongoReadModelStore, READ_MODEL_STORE } from '@journey/read-models';
import { describeWithServer } from '../../../../libs/integration/src/testing/servers';
import { createEngineApp } from '../bootstrap';
import { ProjectionsService } from './projections.service';

/** MONGODB_URL puts the read models in MongoDB: the engine projects into it and answers queries from it. */
describeWithServer('engine with MONGODB_URL', 'MONGODB_URL', (url) => {
  const saved = { ...process.env };
  const dir = mkdtempSync(join(tmpdir(), 'journey-engine-mongo-'));
  const dbName = `engine_${process.pid}`;
  const client = new MongoClient(url);
  let app: NestExpressApplication;
  let base: string;

  beforeAll(async () => {
    Object.assign(process.env, {
      MONGODB_URL: url.replace(/\/[^/?]*(\?|$)/, `/${dbName}$1`),
      JOURNEY_DATA_DIR: dir,
      JOURNEY_WRITE_KEY: 'wk_mongo',
      JOURNEY_ADMIN_KEY: 'ak_mongo',
      JOURNEY_WORKER_ROLES: '',
    }); // one thread in jest (see test/e2e/support.ts)
    app = await createEngineApp({ logLevel: 'error' });
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await app?.close();
    process.env = saved;
    await client.db(dbName).dropDatabase();
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('projects ingested events into MongoDB collections and serves the customer from them', async () => {
    expect(app.get(READ_MODEL_STORE)).toBeInstanceOf(MongoReadModelStore);
    const ingest = await fetch(`${base}/v1/identify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from('wk_mongo:').toString('base64')}` },
      body: JSON.stringify({ userId: 'u1', traits: { plan: 'pro' } }),
    });
    expect(ingest.status).toBe(200);
    await app.get(ProjectionsService).waitForCatchUp(undefined, 20_000);
    const res = await fetch(`${base}/v1/customers/u1`, { headers: { authorization: 'Bearer ak_mongo' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ customerId: 'u1', traits: { plan: 'pro' } });
    const entry = await client
      .db(dbName)
      .collection('read_models')
      .findOne({ _id: 'customers' } as never);
    expect(
      await client
        .db(dbName)
        .collection(entry!.collections.customers)
        .findOne({ _id: 'default/u1' } as never),
    ).toMatchObject({ customerId: 'u1', traits: { plan: 'pro' } });
  });
});
