import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import type { JourneyEvent, RecordedEvent } from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase, type EventStore } from '@journey/event-store';
import { describeWithServer } from '../../../integration/src/testing/servers';
import { MongoReadModelStore } from '../mongodb/mongo-read-model-store';
import { ProjectionRunner, rebuildProjection } from '../runner';
import { SqliteReadModelStore } from '../sqlite/sqlite-read-model-store';
import type { ReadModelStore } from '../store.port';
import {
  CONVERSATION_CONTACTS,
  CONVERSATION_FACTS,
  conversationAnalyticsProjection,
  conversationFigures,
  CONVERSATION_GROUP_BY,
  type ConversationContactsDoc,
  type ConversationFactDoc,
  TASK_FACTS,
  type TaskFactDoc,
} from '.';
import { conversationHistory } from './conversation-analytics.fixture';

const period = { from: new Date('2025-03-01T00:00:00Z'), to: new Date('2025-03-15T00:00:00Z') };

/** Appends the history one event per append (so the live runner projects it in many batches). */
async function appendHistory(events: EventStore): Promise<void> {
  for (const e of conversationHistory()) {
    const { streamId, revision: _r, position: _p, ...event } = e as RecordedEvent;
    await events.appendToStream(streamId, [
      { ...event, id: `00000000-0000-4000-a000-${e.position.toString().padStart(12, '0')}` } as JourneyEvent,
    ]);
  }
}

async function answers(store: ReadModelStore) {
  const facts = (await store.find<ConversationFactDoc>(CONVERSATION_FACTS, { workspaceId: 'w' })).map((d) => d.doc);
  const contacts = (await store.find<ConversationContactsDoc>(CONVERSATION_CONTACTS, { workspaceId: 'w' })).map((d) => d.doc);
  const tasks = (await store.find<TaskFactDoc>(TASK_FACTS, { workspaceId: 'w' })).map((d) => d.doc);
  return [undefined, ...CONVERSATION_GROUP_BY].map((groupBy) => conversationFigures(facts, contacts, { ...period, groupBy }, tasks));
}

/** Live (many small batches), then rebuilt from zero: the same documents and the same answers. */
async function liveThenRebuilt(events: EventStore, store: ReadModelStore) {
  const runner = new ProjectionRunner(conversationAnalyticsProjection, events, store, { batchSize: 2, coalesceMs: 0 });
  await runner.start();
  await appendHistory(events);
  await runner.waitFor(await events.headPosition());
  await runner.stop();
  const live = await answers(store);
  const report = await rebuildProjection(events, store, conversationAnalyticsProjection);
  expect(report.identical).toBe(true);
  expect(report.documents).toEqual({ conversation_facts: 5, conversation_contacts: 3, conversation_messages: 5, task_facts: 2 });
  expect(await answers(store)).toEqual(live);
  return live;
}

describe('conversation-analytics on the stores', () => {
  const dir = mkdtempSync(join(tmpdir(), 'journey-conversation-analytics-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('SQLite: a rebuild from zero yields exactly the live figures', async () => {
    const db = openSqliteDatabase(join(dir, 'sqlite.db'), { synchronous: 'NORMAL' });
    try {
      const live = await liveThenRebuilt(new SqliteEventStore(db), new SqliteReadModelStore(db));
      expect(live[0].overall).toMatchObject({
        conversations: 5,
        repeatContact: { resolutions: 5, repeated: 2 },
        automation: { rate: 0.5 },
      });
    } finally {
      db.close();
    }
  });
});

describeWithServer('conversation-analytics on MongoDB', 'MONGODB_URL', (url) => {
  const dir = mkdtempSync(join(tmpdir(), 'journey-conversation-analytics-mongo-'));
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000 });
  const db = client.db(`conversation_analytics_${process.pid}`);
  afterAll(async () => {
    await db.dropDatabase();
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the same projection code gives the same figures as on SQLite, live and rebuilt', async () => {
    const sqlite = openSqliteDatabase(join(dir, 'events.db'), { synchronous: 'NORMAL' });
    const reference = openSqliteDatabase(join(dir, 'reference.db'), { synchronous: 'NORMAL' });
    try {
      const onMongo = await liveThenRebuilt(new SqliteEventStore(sqlite), new MongoReadModelStore(db));
      const onSqlite = await liveThenRebuilt(new SqliteEventStore(reference), new SqliteReadModelStore(reference));
      expect(onMongo).toEqual(onSqlite);
    } finally {
      sqlite.close();
      reference.close();
    }
  });
});
