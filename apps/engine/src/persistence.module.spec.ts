import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CHECKPOINT_STORE,
  EVENT_STORE,
  EventStoreDbCheckpointStore,
  EventStoreDbEventStore,
  SqliteCheckpointStore,
  SqliteEventStore,
} from '@journey/event-store';
import { ENGINE_CONFIG } from './config';
import { eventStoreCheck } from './operations/health';
import { PersistenceModule } from './persistence.module';

/**
 * The engine under the EventStore port is chosen by EVENTSTOREDB_URL alone (the ESDB client connects lazily, so no
 * server is needed to wire it).
 */
describe('PersistenceModule: choice of event store', () => {
  const saved = { ...process.env };
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'journey-persistence-'));
    process.env.JOURNEY_DATA_DIR = dir;
    process.env.JOURNEY_WRITE_KEY = 'wk_test';
    process.env.JOURNEY_ADMIN_KEY = 'ak_test';
  });
  afterEach(() => {
    process.env = { ...saved };
    rmSync(dir, { recursive: true, force: true });
  });

  async function wire() {
    const moduleRef = await Test.createTestingModule({ imports: [PersistenceModule] }).compile();
    const app = moduleRef.createNestApplication();
    await app.init();
    const result = { store: app.get(EVENT_STORE), checkpoints: app.get(CHECKPOINT_STORE), check: eventStoreCheck(app.get(ENGINE_CONFIG)) };
    await app.close();
    return result;
  }

  it('uses SQLite for events and checkpoints by default', async () => {
    delete process.env.EVENTSTOREDB_URL;
    const { store, checkpoints, check } = await wire();
    expect(store).toBeInstanceOf(SqliteEventStore);
    expect(check).toBe('eventStore:sqlite');
    expect(checkpoints).toBeInstanceOf(SqliteCheckpointStore);
  });

  it('uses EventStoreDB for events and checkpoints when EVENTSTOREDB_URL is set', async () => {
    process.env.EVENTSTOREDB_URL = 'esdb://127.0.0.1:2113?tls=false';
    const { store, checkpoints, check } = await wire();
    expect(store).toBeInstanceOf(EventStoreDbEventStore);
    expect(check).toBe('eventStore:eventstoredb');
    expect(checkpoints).toBeInstanceOf(EventStoreDbCheckpointStore);
  });
});
