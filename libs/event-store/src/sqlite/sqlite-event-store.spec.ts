import * as fs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { until } from '../../../../test/support/wait';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { describeEventStoreContract } from '../contract/event-store.contract';
import { logSynchronousMode, openSqliteDatabase } from './database';
import { SqliteEventStore } from './sqlite-event-store';
import { Upcasters, type JourneyEvent, type RecordedEvent } from '@journey/domain';

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

  it('a request that fails in the group leaves no trace: its other streams keep their revisions', async () => {
    const store = new SqliteEventStore(openSqliteDatabase(':memory:'));
    await store.appendToStream('taken', [event('A')]);
    await expect(
      store.appendMany([
        { streamId: 'fresh', events: [event('B')] },
        { streamId: 'taken', events: [event('C')], expectedRevision: 'no_stream' },
      ]),
    ).rejects.toThrow(/wrong expected revision/);
    const next = await store.appendToStream('fresh', [event('D')], { expectedRevision: 'no_stream' });
    expect(next.nextExpectedRevision).toBe(0n);
    expect((await store.readStream('fresh')).map((e) => [e.type, e.revision])).toEqual([['D', 0n]]);
    await store.close();
  });

  it('keeps revisions, idempotency and expected revisions right when another connection (a second process) writes the same file', async () => {
    const path = join(dir, 'two-writers.db');
    const a = new SqliteEventStore(openSqliteDatabase(path));
    const b = new SqliteEventStore(openSqliteDatabase(path));
    const shared = event('Shared');
    await a.appendToStream('s', [event('A1'), shared]);
    expect((await b.appendToStream('s', [shared, event('B1')])).nextExpectedRevision).toBe(2n);
    await expect(a.appendToStream('s', [event('A2')], { expectedRevision: 1n })).rejects.toThrow(/actual 2/);
    expect((await a.appendToStream('s', [event('A2')], { expectedRevision: 2n })).nextExpectedRevision).toBe(3n);
    // A second store on the same connection is another writer too.
    const c = new SqliteEventStore(a['db']);
    expect((await c.appendToStream('s', [event('C1')])).nextExpectedRevision).toBe(4n);
    expect((await a.appendToStream('s', [event('A3')])).nextExpectedRevision).toBe(5n);
    expect((await b.readStream('s')).map((e) => `${e.type}@${e.revision}`)).toEqual(['A1@0', 'Shared@1', 'B1@2', 'A2@3', 'C1@4', 'A3@5']);
    // What the others wrote is remembered too, not dropped: a's live subscribers read the whole tail from memory.
    expect((a['tail'] as Array<{ type: string; position: number }>).map((e) => `${e.type}@${e.position}`)).toEqual([
      'A1@1',
      'Shared@2',
      'B1@3',
      'A2@4',
      'C1@5',
      'A3@6',
    ]);
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it("live subscribers get every event in order, other writers' ones included, filtered, as shared read-only objects", async () => {
    const path = join(dir, 'live.db');
    const store = new SqliteEventStore(openSqliteDatabase(path));
    const other = new SqliteEventStore(openSqliteDatabase(path));
    const seen: { all: RecordedEvent[]; odd: RecordedEvent[] } = { all: [], odd: [] };
    const subs = [
      store.subscribeToAll({ batchSize: 3 }, (events) => void seen.all.push(...events)),
      store.subscribeToAll({ filter: { eventTypes: ['Odd'] } }, (events) => void seen.odd.push(...events)),
    ];
    for (let i = 0; i < 10; i++) await (i === 4 ? other : store).appendToStream(`s-${i % 3}`, [event(i % 2 ? 'Odd' : 'Even', { i })]);
    const deadline = Date.now() + 5000;
    while ((seen.all.length < 10 || seen.odd.length < 5) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await Promise.all(subs.map((s) => s.stop()));
    expect(seen.all.map((e) => e.data.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(seen.all.map((e) => e.position)).toEqual(seen.all.map((_, k) => BigInt(k + 1)));
    expect(seen.odd.map((e) => e.data.i)).toEqual([1, 3, 5, 7, 9]);
    expect(seen.odd[1]).toBe(seen.all[3]);
    expect(() => {
      (seen.all[0].data as Record<string, unknown>).i = 99;
    }).toThrow(TypeError);
    await Promise.all([store.close(), other.close()]);
  });

  it('with durability FULL, answers an append and shows it to live subscribers only after an fdatasync of the WAL', async () => {
    const path = join(dir, 'durability.db');
    const db = openSqliteDatabase(path, { synchronous: 'FULL' });
    expect(logSynchronousMode(db)).toBe('FULL');
    expect(db.pragma('synchronous', { simple: true })).toBe(1); // commits themselves run at NORMAL: no fsync under the lock
    const synced: string[] = [];
    const slowDisk = ((fd: number, done: (e: NodeJS.ErrnoException | null) => void) => {
      setTimeout(() => fs.fdatasync(fd, (e) => (synced.push(fs.readlinkSync(`/proc/self/fd/${fd}`)), done(e))), 150);
    }) as typeof fs.fdatasync;
    const store = new SqliteEventStore(db, { fdatasync: slowDisk });
    const seen: RecordedEvent[] = [];
    const sub = store.subscribeToAll({}, (events) => void seen.push(...events));
    let answered = false;
    const append = store.appendToStream('s', [event('A')]).then(() => (answered = true));
    await new Promise((r) => setTimeout(r, 75));
    const reader = new Database(path, { readonly: true });
    expect(reader.prepare('SELECT COUNT(*) AS n FROM events').get()).toEqual({ n: 1 }); // committed
    reader.close();
    expect({ answered, seen: seen.length }).toEqual({ answered: false, seen: 0 }); // but not yet durable
    await append;
    expect(synced).toEqual([`${path}-wal`]);
    const deadline = Date.now() + 2000;
    while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(seen.map((e) => e.type)).toEqual(['A']);

    // A derived append (a reactor's effects, followed by its checkpoint in the same WAL) is answered once committed.
    let derivedAnswered = false;
    const derived = store.appendMany([{ streamId: 's', events: [event('B')] }], { rederivable: true }).then(() => (derivedAnswered = true));
    await new Promise((r) => setTimeout(r, 75));
    expect(derivedAnswered).toBe(true);
    expect(seen.map((e) => e.type)).toEqual(['A']); // subscribers still wait for the fdatasync
    await derived;
    await until(() => seen.length === 2, 'B after its fdatasync');
    expect(synced).toEqual([`${path}-wal`, `${path}-wal`]);
    await sub.stop();
    await store.close();
  });

  it("hands out another writer's events once durable: as its thread tells, or after an fdatasync of its own", async () => {
    const path = join(dir, 'durable-other-writer.db');
    const readerSyncs: number[] = [];
    const counting = ((fd: number, done: (e: NodeJS.ErrnoException | null) => void) => {
      readerSyncs.push(fd);
      fs.fdatasync(fd, done);
    }) as typeof fs.fdatasync;
    const reader = new SqliteEventStore(openSqliteDatabase(path, { synchronous: 'FULL' }), { fdatasync: counting });
    const seen: string[] = [];
    const sub = reader.subscribeToAll({}, (events) => void seen.push(...events.map((e) => e.type)));
    // Another thread of this process (same channel): it syncs, then tells; the reader trusts it and syncs nothing.
    const sibling = new SqliteEventStore(openSqliteDatabase(path, { synchronous: 'FULL' }));
    await sibling.appendToStream('s', [event('FromTheOtherThread')]);
    await until(() => seen.length === 1, 'the sibling thread event');
    expect(readerSyncs).toEqual([]);
    // Another process (no channel: here the same file through a symbolic link): the reader syncs the WAL itself first.
    fs.symlinkSync(path, `${path}.link`);
    const stranger = new SqliteEventStore(openSqliteDatabase(`${path}.link`, { synchronous: 'NORMAL' }));
    await stranger.appendToStream('s', [event('FromAnotherProcess')]);
    await until(() => seen.length === 2, 'the other process event');
    expect(seen).toEqual(['FromTheOtherThread', 'FromAnotherProcess']);
    expect(readerSyncs).toHaveLength(1);
    await sub.stop();
    await Promise.all([sibling.close(), stranger.close(), reader.close()]);
  });

  it('with durability NORMAL, does not sync the WAL at each commit', async () => {
    const synced: number[] = [];
    const store = new SqliteEventStore(openSqliteDatabase(join(dir, 'normal.db'), { synchronous: 'NORMAL' }), {
      fdatasync: ((fd: number) => synced.push(fd)) as unknown as typeof fs.fdatasync,
    });
    await store.appendToStream('s', [event('A')]);
    expect(synced).toEqual([]);
    await store.close();
  });

  it('type-filtered pages are right whether the types are seeked in the index (sparse) or read in log order (dense), and never sort the rest of the log', async () => {
    const db = openSqliteDatabase(join(dir, 'types.db'));
    const store = new SqliteEventStore(db);
    const types = (i: number) => (i % 97 === 0 ? 'Rare' : i % 10 === 0 ? 'Other' : 'Common');
    for (let i = 0; i < 3000; i += 500)
      await store.appendMany(
        Array.from({ length: 5 }, (_, k) => ({
          streamId: `s-${k}`,
          events: Array.from({ length: 100 }, (_, j) => event(types(i + k * 100 + j), { i: i + k * 100 + j })),
        })),
      );
    const all = await store.readAll({ maxCount: 10_000 });
    const prepared: string[] = [];
    const prepare = db.prepare.bind(db);
    jest.spyOn(db, 'prepare').mockImplementation(((sql: string) => (prepared.push(sql), prepare(sql))) as typeof db.prepare);
    const pages = async (filter: { eventTypes: string[]; streamPrefixes?: string[] }) => {
      const out: RecordedEvent[] = [];
      for (let after = 0n; ;) {
        const page = await store.readAll({ after, maxCount: 100, filter });
        if (page.length === 0) return out;
        out.push(...page);
        after = page[page.length - 1].position;
      }
    };
    const expected = (wanted: string[], prefix = '') =>
      all.filter((e) => wanted.includes(e.type) && e.streamId.startsWith(prefix)).map((e) => e.position);
    expect((await pages({ eventTypes: ['Rare', 'Common'] })).map((e) => e.position)).toEqual(expected(['Rare', 'Common']));
    expect((await pages({ eventTypes: ['Rare'] })).map((e) => e.position)).toEqual(expected(['Rare']));
    expect((await pages({ eventTypes: ['Rare', 'Other'], streamPrefixes: ['s-3'] })).map((e) => e.position)).toEqual(
      expected(['Rare', 'Other'], 's-3'),
    );
    // the dense filter switched to reading in log order after its first full page; the sparse ones stayed on the index
    const plan = (sql: string) =>
      db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...Array.from({ length: (sql.match(/\?/g) ?? []).length }, () => 1))
        .map((r) => (r as { detail: string }).detail);
    const dense = prepared.filter((sql) => sql.includes('+type IN'));
    const seeks = prepared.filter((sql) => sql.includes('UNION ALL'));
    expect([dense.length, seeks.length]).toEqual([1, 2]);
    expect(plan(dense[0])).toEqual(['SEARCH events USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)']);
    for (const sql of seeks) {
      const searches = plan(sql).filter((d) => d.startsWith('SEARCH'));
      expect(
        searches.every(
          (d) =>
            d === 'SEARCH events USING INTEGER PRIMARY KEY (rowid=?)' ||
            /USING (COVERING )?INDEX events_type \(type=\? AND position>\? AND position<\?\)/.test(d),
        ),
      ).toBe(true);
    }
    await store.close();
  });

  it('upcasts old schema versions on read', async () => {
    const upcasters = Upcasters.of([{ type: 'LegacyThing', fromVersion: 1, upcast: (d) => ({ fullName: `${d.first} ${d.last}` }) }]);
    const store = new SqliteEventStore(openSqliteDatabase(':memory:'), { upcasters });
    await store.appendToStream('s', [event('LegacyThing', { first: 'Ada', last: 'Lovelace' }, 1)]);
    const [read] = await store.readStream('s');
    expect(read.data).toEqual({ fullName: 'Ada Lovelace' });
    expect(read.metadata.schemaVersion).toBe(2);
  });
});
