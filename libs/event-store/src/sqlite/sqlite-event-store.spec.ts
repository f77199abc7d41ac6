import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { describeEventStoreContract } from '../contract/event-store.contract';
import { openSqliteDatabase } from './database';
import { SqliteEventStore } from './sqlite-event-store';
import { registerUpcaster, type JourneyEvent } from '@journey/domain';

const dir = mkdtempSync(join(tmpdir(), 'journey-es-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeEventStoreContract('sqlite', async () => new SqliteEventStore(openSqliteDatabase(join(dir, `${randomUUID()}.db`))));

describe('SqliteEventStore specifics', () => {
  const event = (type: string, data: Record<string, unknown> = {}, schemaVersion = 1): JourneyEvent => ({
    id: randomUUID(),
    type,
    data,
    metadata: { workspaceId: 'w', customerId: 'c', occurredAt: 'x', recordedAt: 'x', source: 'test', schemaVersion },
  });

  it('commits concurrent appends together, and a conflict in one request does not fail the others', async () => {
    const store = new SqliteEventStore(openSqliteDatabase(join(dir, 'group.db')));
    await store.appendToStream('s-1', [event('A')]);
    const results = await Promise.allSettled([
      store.appendToStream('s-2', [event('B')]),
      store.appendToStream('s-1', [event('Conflict')], { expectedRevision: 'no_stream' }),
      store.appendToStream('s-3', [event('C')]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await store.readAll()).map((e) => e.type)).toEqual(['A', 'B', 'C']);
    await store.close();
  });

  it('keeps acknowledged events across a reopen of the file', async () => {
    const path = join(dir, 'reopen.db');
    const first = new SqliteEventStore(openSqliteDatabase(path));
    await first.appendToStream('s', [event('Durable', { v: 42 })]);
    await first.close();
    const second = new SqliteEventStore(openSqliteDatabase(path));
    expect((await second.readStream('s'))[0].data).toEqual({ v: 42 });
  });

  it('upcasts old schema versions on read', async () => {
    registerUpcaster('LegacyThing', 1, (d) => ({ fullName: `${d.first} ${d.last}` }));
    const store = new SqliteEventStore(openSqliteDatabase(':memory:'));
    await store.appendToStream('s', [event('LegacyThing', { first: 'Ada', last: 'Lovelace' }, 1)]);
    const [read] = await store.readStream('s');
    expect(read.data).toEqual({ fullName: 'Ada Lovelace' });
    expect(read.metadata.schemaVersion).toBe(2);
  });
});
