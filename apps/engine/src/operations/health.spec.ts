import { HealthChecks } from './health';

describe('HealthChecks', () => {
  it("fails a subscriber's check while it is failing, in the words it is registered with", async () => {
    // given a subscriber registered by its lastError
    const health = new HealthChecks();
    const subscriber: { lastError?: Error } = {};
    health.registerSubscriber('relay', subscriber, (e) => `publishing fails: ${e.message}`);
    const check = health.checks.get('relay')!;
    await expect(check()).resolves.toBeUndefined();
    // when it fails, then heals
    subscriber.lastError = new Error('broker down');
    await expect(check()).rejects.toThrow('publishing fails: broker down');
    subscriber.lastError = undefined;
    await expect(check()).resolves.toBeUndefined();
  });

  it("fails the event store's check, and only it, from a failed write until a write succeeds", async () => {
    const health = new HealthChecks();
    health.register('eventStore:sqlite', async () => undefined, { eventStore: true });
    health.register('dispatcher', async () => undefined);
    health.writeFailed(new Error('SQLITE_FULL: database or disk is full'), new Date('2026-12-03T00:00:00Z'));
    await expect(health.checks.get('eventStore:sqlite')!()).rejects.toThrow(
      'writes fail since 2026-12-03T00:00:00.000Z: SQLITE_FULL: database or disk is full',
    );
    await expect(health.checks.get('dispatcher')!()).resolves.toBeUndefined();
    health.writeSucceeded();
    await expect(health.checks.get('eventStore:sqlite')!()).resolves.toBeUndefined();
  });
});
