import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JourneyEvent, RecordedEvent } from '@journey/domain';
import { WrongExpectedRevisionError, type BatchHandler, type EventStore, type SubscriptionHandle } from '@journey/event-store';
import type { EngineConfig } from '../config';
import { HealthChecks } from '../operations/health';
import { waitFor } from '../../../../test/support/wait';
import { keyCreated, keyIdOf, hashKey, keyRevoked, keysStreamId, recordOf } from './api-keys';
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
    const failure = await waitFor(
      () =>
        health.checks.get('keys')!().then(
          () => undefined,
          (e: Error) => e.message,
        ),
      'the keys check to fail',
    );
    expect(failure).toBe('not following key changes: connection lost');
    await waitFor(() => handlers.length === 1, 'the subscription to be opened again');
    await expect(health.checks.get('keys')!()).resolves.toBeUndefined();

    const record = recordOf('ck_new', { workspaceId: 'acme', role: 'csm', name: 'n', source: 'api' });
    const event: RecordedEvent = {
      ...keyCreated(record, '2026-01-01T00:00:00.000Z'),
      streamId: keysStreamId('acme'),
      revision: 0n,
      position: 7n,
    };
    await handlers[0]([event]);
    expect(keys.authenticate('ck_new')).toEqual({ workspaceId: 'acme', role: 'csm', keyId: record.id });
    expect(keys.authenticate('ak')).toMatchObject({ workspaceId: 'default', role: 'admin' });
    expect(keys.authenticate('unknown')).toBeUndefined();
    await keys.onModuleDestroy();
  });

  it('decides a revocation again when another process changed the workspace meanwhile: the last admin key stays (409)', async () => {
    const stream: RecordedEvent[] = [];
    const record = (e: JourneyEvent) =>
      stream.push({ ...e, streamId: keysStreamId('default'), revision: BigInt(stream.length), position: BigInt(stream.length + 1) });
    const second = recordOf('ak_second', { workspaceId: 'default', role: 'admin', name: 'second', source: 'api' });
    record(keyCreated(second, '2026-01-01T00:00:00.000Z'));
    const appends: unknown[] = [];
    const store = {
      readStream: jest.fn(async () => [...stream]),
      appendToStream: jest.fn(async (_: string, events: unknown[], options: { expectedRevision: bigint }) => {
        appends.push(options.expectedRevision);
        if (appends.length === 1) {
          // meanwhile, another process revoked the second admin key
          record(keyRevoked('default', { keyId: second.id, reason: 'revoked', by: 'other' }, '2026-01-01T00:00:01.000Z'));
          throw new WrongExpectedRevisionError(keysStreamId('default'), options.expectedRevision, BigInt(stream.length - 1));
        }
        throw new Error(`unexpected append of ${JSON.stringify(events)}`);
      }),
    } as unknown as EventStore;
    const keys = new KeyStore(
      { dataDir: dir, defaultWorkspace: 'default', writeKey: 'wk', adminKey: 'ak' } as EngineConfig,
      store,
      new HealthChecks(),
    );
    const envAdmin = keyIdOf(hashKey('ak'));
    await expect(keys.revoke({ workspaceId: 'default', role: 'admin', keyId: second.id }, envAdmin)).rejects.toThrow('last admin key');
    expect(appends).toEqual([0n]);
    expect(keys.authenticate('ak')).toMatchObject({ role: 'admin' });
  });
});
