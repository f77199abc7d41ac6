import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { MongoReadModelStore, READ_MODEL_STORE } from '@journey/read-models';
import { describeWithServer } from '../../../../libs/integration/src/testing/servers';
import { createEngineApp } from '../bootstrap';
import { ConversationsService } from '../conversations/conversations.service';
import { ProjectionsService } from '../projections/projections.service';

/** With MONGODB_URL the work queue is answered from MongoDB collections. */
describeWithServer('GET /v1/work with MONGODB_URL', 'MONGODB_URL', (url) => {
  const saved = { ...process.env };
  const dir = mkdtempSync(join(tmpdir(), 'journey-work-mongo-'));
  const dbName = `work_engine_${process.pid}`;
  const client = new MongoClient(url);
  let app: NestExpressApplication;
  let base: string;

  beforeAll(async () => {
    Object.assign(process.env, {
      MONGODB_URL: url.replace(/\/[^/?]*(\?|$)/, `/${dbName}$1`),
      JOURNEY_DATA_DIR: dir,
      JOURNEY_WRITE_KEY: 'wk_work_mongo',
      JOURNEY_ADMIN_KEY: 'ak_work_mongo',
      JOURNEY_WORKER_ROLES: '',
      JOURNEY_ROLES: 'api,projector',
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

  it("answers a member's open conversations, urgent first, page by page", async () => {
    expect(app.get(READ_MODEL_STORE)).toBeInstanceOf(MongoReadModelStore);
    const conversations = app.get(ConversationsService);
    const ids: string[] = [];
    for (const [customer, priority] of [
      ['u1', 'low'],
      ['u2', 'urgent'],
      ['u3', 'high'],
    ] as const) {
      const { conversation } = await conversations.receive('default', customer, { channel: 'inbox', body: `from ${customer}` }, 'test');
      await conversations.act(
        'default',
        customer,
        conversation.conversationId,
        { type: 'Assign', assignee: 'ann', priority, reason: 'manual' },
        { source: 'test' },
      );
      ids.push(conversation.conversationId);
    }
    await app.get(ProjectionsService).waitForCatchUp(undefined, 20_000);
    const get = async (path: string) =>
      (await (await fetch(`${base}${path}`, { headers: { authorization: 'Bearer ak_work_mongo' } })).json()) as {
        items: Array<{ itemId: string; preview: string }>;
        nextCursor?: string;
      };
    const first = await get('/v1/work?assignee=ann&limit=2');
    expect(first.items.map((i) => i.itemId)).toEqual([ids[1], ids[2]]);
    const second = await get(`/v1/work?assignee=ann&limit=2&cursor=${first.nextCursor}`);
    expect(second).toEqual({ items: [expect.objectContaining({ itemId: ids[0], preview: 'from u1' })] });
  });
});
