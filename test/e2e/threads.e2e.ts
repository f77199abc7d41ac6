/**
 * The engine as `npm start` runs it on the embedded default: one process, two threads. The main thread answers HTTP
 * and runs the reactors; the worker thread (JOURNEY_WORKER_ROLES, default projector, dispatcher, relay) projects,
 * delivers and relays, on its own connections to the same SQLite files. What the main thread serves must include the
 * worker's work: read models it projected, /health with its checks, /metrics with its metrics.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnEngine, type EngineProcess } from '../support/engine-process';
import { waitFor } from '../support/wait';

describe('engine threads: main (api, reactor) + worker (projector, dispatcher, relay)', () => {
  let dir: string;
  let engine: EngineProcess;
  const admin = () => `Bearer ${engine.adminKey}`;
  const get = async (path: string) => {
    const res = await fetch(`${engine.url}${path}`, { headers: { authorization: admin() } });
    return { status: res.status, text: await res.text() };
  };
  const post = (path: string, body: unknown, authorization: string) =>
    fetch(`${engine.url}${path}`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'journey-threads-e2e-'));
    engine = await spawnEngine({ dataDir: dir });
  }, 90_000);
  afterAll(async () => {
    await engine?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves what the worker projected and delivered, with its health checks and metrics', async () => {
    const health = JSON.parse((await get('/health')).text);
    expect(health.status).toBe('ok');
    expect(health.details['worker-thread (projector, dispatcher, relay)']).toEqual({ status: 'up' });

    const trigger = {
      id: 'threads-welcome',
      name: 'Welcome',
      entry: { event: 'CustomerIdentified' },
      steps: [{ send: { channel: 'inbox', body: 'Welcome, {{ customer.traits.name }}' } }],
    };
    expect((await post('/v1/triggers', trigger, admin())).status).toBe(201);
    expect((await post(`/v1/triggers/${trigger.id}/enable`, {}, admin())).status).toBe(200);
    const write = `Basic ${Buffer.from(`${engine.writeKey}:`).toString('base64')}`;
    expect((await post('/v1/identify', { userId: 'ada', traits: { name: 'Ada' } }, write)).status).toBe(200);
    expect((await post('/v1/track', { userId: 'ada', event: 'Report Viewed' }, write)).status).toBe(200);

    // Projected in the worker, read by the main thread from the read models' file.
    const state = await waitFor(async () => {
      const res = await get('/v1/customers/ada');
      const body = res.status === 200 ? JSON.parse(res.text) : undefined;
      return body?.interactions?.total === 1 ? body : undefined;
    }, 'the customer projected by the worker thread');
    expect(state.traits).toMatchObject({ name: 'Ada' });
    // Decided on the main thread, delivered by the worker's dispatcher.
    const inbox = await waitFor(async () => {
      const body = JSON.parse((await get('/v1/customers/ada/inbox')).text);
      return body.messages?.length ? body.messages : undefined;
    }, 'the welcome message in the inbox');
    expect(inbox[0].body).toBe('Welcome, Ada');

    const projections = await waitFor(async () => {
      const body = JSON.parse((await get('/v1/admin/projections')).text);
      return body.projections.every((p: { lag: number }) => p.lag === 0) ? body.projections : undefined;
    }, 'projections caught up');
    expect(projections.map((p: { name: string; running: boolean }) => [p.name, p.running])).toEqual([
      ['customers', true],
      ['stage-analytics', true],
      ['trigger-analytics', true],
      ['conversation-analytics', true],
      ['work', true],
      ['broadcast-analytics', true],
      ['segment-members', true],
    ]);

    const metrics = await waitFor(async () => {
      const text = (await get('/metrics')).text;
      return /journey_messages_total\{channel="inbox",outcome="delivered"\} 1/.test(text) ? text : undefined;
    }, 'the worker dispatcher counted in /metrics');
    const sample = (name: string) => metrics.split('\n').filter((l) => l.startsWith(name));
    expect(Number(sample('journey_projection_position{projection="customers"}')[0]?.split(' ')[1])).toBeGreaterThan(0); // the worker's gauge
    expect(sample('journey_ingested_events_total')).toEqual([expect.stringMatching(/ 2$/)]); // the main thread's counter
    expect(sample('journey_process_resident_memory_bytes')).toHaveLength(1); // process metrics once, from the main thread
    expect(sample('journey_worker_thread_restarts_total')).toEqual(['journey_worker_thread_restarts_total 0']);
  }, 60_000);

  it('stops both threads on SIGTERM and exits 0', async () => {
    expect(await engine.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 60_000);
});
