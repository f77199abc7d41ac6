import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { RecordedEvent } from '@journey/domain';
import { customersProjection } from '@journey/read-models';
import { eventually } from '../../../../libs/reactors/src/testing/eventually';
import { startEngine, type TestEngine } from '../../../../test/e2e/support';

/**
 * A poison event over HTTP: the customers projection rejects every event of customer `poison` (as a store rejecting a
 * document would). The projector quarantines it and goes on with the other customers; the admin sees the dead letter,
 * fixes the cause, retries it, and the retry resolves it.
 */
describe('dead letters over HTTP', () => {
  let engine: TestEngine;
  let dataDir: string;
  let broken = true;
  let outage = false;
  const apply = customersProjection.apply.bind(customersProjection);
  const spy = jest.spyOn(customersProjection, 'apply').mockImplementation((events, docs) => {
    if (outage) throw Object.assign(new Error('connection to the read-model store reset'), { code: 'ECONNRESET' });
    if (broken && events.some((e: RecordedEvent) => e.streamId.startsWith('customer-') && e.metadata.customerId === 'poison'))
      throw new TypeError("Cannot read properties of undefined (reading 'plan')");
    return apply(events, docs);
  });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'journey-dead-letters-e2e-'));
    mkdirSync(dataDir, { recursive: true });
    // A second workspace with its own admin key, and a csm key of the default workspace.
    writeFileSync(
      join(dataDir, 'keys.json'),
      JSON.stringify({
        keys: [
          { key: 'ak_other', workspaceId: 'other', role: 'admin' },
          { key: 'ck_default', workspaceId: 'default', role: 'csm' },
        ],
      }),
    );
    engine = await startEngine({
      dataDir,
      env: { JOURNEY_ROLES: 'api,projector', JOURNEY_POISON_ATTEMPTS: '2', JOURNEY_RETRY_BACKOFF_MS: '20' },
    });
  });
  afterAll(async () => {
    spy.mockRestore();
    await engine?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const http = () => request(engine.app.getHttpServer());
  const identify = (userId: string, plan: string) =>
    http()
      .post('/v1/batch')
      .set('authorization', engine.auth.write)
      .send({ batch: [{ type: 'identify', userId, traits: { plan } }] })
      .expect(200);

  it('lists the quarantined event, keeps projecting the other customers, and resolves it on retry once the cause is fixed', async () => {
    await http()
      .post('/v1/batch')
      .set('authorization', engine.auth.write)
      .send({
        batch: [
          { type: 'identify', userId: 'ada', traits: { plan: 'pro' } },
          { type: 'identify', userId: 'poison', traits: { plan: 'x' } },
          { type: 'identify', userId: 'bob', traits: { plan: 'team' } },
        ],
      })
      .expect(200);

    const letters = await eventually(async () => {
      const res = await http().get('/v1/admin/dead-letters').set('authorization', engine.auth.admin).expect(200);
      expect(res.body.deadLetters).toHaveLength(1);
      return res.body.deadLetters;
    });
    expect(letters[0]).toMatchObject({
      status: 'quarantined',
      subscriber: 'projections',
      customerId: 'poison',
      eventType: 'CustomerIdentified',
      streamId: expect.stringContaining('poison'),
      reason: 'TypeError',
      error: "Cannot read properties of undefined (reading 'plan')",
      attempts: 2,
      quarantinedAt: expect.any(String),
    });
    // The other customers of the batch, and later events, are projected.
    await identify('cy', 'free');
    for (const id of ['ada', 'bob', 'cy'])
      await eventually(async () => void (await http().get(`/v1/customers/${id}`).set('authorization', engine.auth.admin).expect(200)));
    await http().get('/v1/customers/poison').set('authorization', engine.auth.admin).expect(404);
    await eventually(async () => expect((await http().get('/health').expect(200)).body.details.projections).toEqual({ status: 'up' }));
    await eventually(async () =>
      expect((await http().get('/metrics').set('authorization', engine.auth.admin).expect(200)).text).toMatch(
        /journey_dead_letters_total\{subscriber="projections"\} 1/,
      ),
    );

    // Scoped: another workspace's admin sees none and cannot retry it; other roles may not.
    expect((await http().get('/v1/admin/dead-letters').set('authorization', 'Bearer ak_other').expect(200)).body.deadLetters).toEqual([]);
    await http().post(`/v1/admin/dead-letters/${letters[0].id}/retry`).set('authorization', 'Bearer ak_other').expect(404);
    await http().get('/v1/admin/dead-letters').set('authorization', 'Bearer ck_default').expect(403);
    await http().get('/v1/admin/dead-letters').set('authorization', engine.auth.write).expect(403);
    await http().post('/v1/admin/dead-letters/nope/retry').set('authorization', engine.auth.admin).expect(404);

    broken = false; // the cause is fixed
    const retry = await http().post(`/v1/admin/dead-letters/${letters[0].id}/retry`).set('authorization', engine.auth.admin).expect(202);
    expect(retry.body).toMatchObject({ id: letters[0].id, status: 'retrying', retries: 1 });
    await eventually(async () => {
      const res = await http().get('/v1/admin/dead-letters').set('authorization', engine.auth.admin).expect(200);
      expect(res.body.deadLetters).toEqual([
        expect.objectContaining({ id: letters[0].id, status: 'resolved', retries: 1, resolvedAt: expect.any(String) }),
      ]);
    });
    const poison = await http().get('/v1/customers/poison').set('authorization', engine.auth.admin).expect(200);
    expect(poison.body).toMatchObject({ customerId: 'poison', traits: { plan: 'x' } });
    await http().post(`/v1/admin/dead-letters/${letters[0].id}/retry`).set('authorization', engine.auth.admin).expect(409);
  });

  it('quarantines it again when the retry fails too', async () => {
    broken = true;
    await identify('poison', 'y');
    const letter = await eventually(async () => {
      const res = await http().get('/v1/admin/dead-letters').set('authorization', engine.auth.admin).expect(200);
      const open = res.body.deadLetters.filter((l: { status: string }) => l.status === 'quarantined');
      expect(open).toHaveLength(1);
      return open[0];
    });
    await http().post(`/v1/admin/dead-letters/${letter.id}/retry`).set('authorization', engine.auth.admin).expect(202);
    await eventually(async () => {
      const res = await http().get('/v1/admin/dead-letters').set('authorization', engine.auth.admin).expect(200);
      expect(res.body.deadLetters.find((l: { id: string }) => l.id === letter.id)).toMatchObject({
        status: 'quarantined',
        retries: 1,
        attempts: 2,
      });
    });
    // counted once its record is durable, a moment after it is readable
    await eventually(async () =>
      expect((await http().get('/metrics').set('authorization', engine.auth.admin).expect(200)).text).toMatch(
        /journey_dead_letters_total\{subscriber="projections"\} 3/,
      ),
    );
  });

  it('reports the projector failing on /health while an outage lasts (nothing quarantined), and healthy again once it recovers', async () => {
    const before = (await http().get('/v1/admin/dead-letters').set('authorization', engine.auth.admin).expect(200)).body.deadLetters.length;
    outage = true;
    await identify('dora', 'pro');
    await eventually(async () => {
      const health = await http().get('/health').expect(503);
      expect(health.body.details.projections).toEqual({
        status: 'down',
        message: expect.stringContaining('connection to the read-model store reset'),
      });
    });
    await new Promise((r) => setTimeout(r, 200)); // many more attempts than JOURNEY_POISON_ATTEMPTS
    outage = false;
    await eventually(async () => expect((await http().get('/health').expect(200)).body.details.projections).toEqual({ status: 'up' }));
    await http().get('/v1/customers/dora').set('authorization', engine.auth.admin).expect(200);
    expect((await http().get('/v1/admin/dead-letters').set('authorization', engine.auth.admin).expect(200)).body.deadLetters).toHaveLength(
      before,
    );
  });
});
