import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordedEvent } from '@journey/domain';
import type { BatchHandler, EventStore, SubscriptionHandle } from '@journey/event-store';
import type { EngineConfig } from '../config';
import { HealthChecks } from '../operations/health';
import { waitFor } from '../../../../test/support/wait';
import { keyCreated, keysStreamId, recordOf } from './api-keys';
import { KeyStore } from './key-store';

describe('KeyStore following the log', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'journey-keystore-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('retries a failed subscription, reports it in /health meanwhile, and applies the key changes after it', async () => {
    const handlers: BatchHandler[] = [];
    let fail = true;
    const store = {
      readAll: jest.fn(async () => []),
      subscribeToAll: jest.fn((_: unknown, handler: BatchHandler): SubscriptionHandle => {
        if (fail) {
          fail = false;
          return { done: Promise.reject(new Error('connection lost')), stop: async () => undefined };
        }
        handlers.push(handler);
        return { done: new Promise(() => undefined), stop: async () => undefined };
      }),
    } as unknown as EventStore;
    const health = new HealthChecks();
    const keys = new KeyStore({ dataDir: dir, defaultWorkspace: 'default', writeKey: 'wk', adminKey: 'ak' } as EngineConfig, store, health);
    await keys.onApplicationBootstrap();
    const failure = await waitFor(() => health.checks.get('keys')!().then(() => undefined, (e: Error) => e.message), 'the keys check to fail');
    expect(failure).toBe('not following key changes: connection lost');
    await waitFor(() => handlers.length === 1, 'the subscription to be opened again');
    await expect(health.checks.get('keys')!()).resolves.toBeUndefined();

    const record = recordOf('ck_new', { workspaceId: 'acme', role: 'csm', name: 'n', source: 'api' });
    const event: RecordedEvent = { ...keyCreated(record, '2026-01-01T00:00:00.000Z'), streamId: keysStreamId('acme'), revision: 0n, position: 7n };
    await handlers[0]([event]);
    expect(keys.authenticate('ck_new')).toEqual({ workspaceId: 'acme', role: 'csm', keyId: record.id });
    expect(keys.authenticate('ak')).toMatchObject({ workspaceId: 'default', role: 'admin' });
    expect(keys.authenticate('unknown')).toBeUndefined();
    await keys.onModuleDestroy();
  });
});
