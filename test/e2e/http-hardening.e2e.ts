/**
 * What a browser, a careless client and a full disk meet at the HTTP edge: CORS for the write key's routes (any
 * origin, as Segment's API) and not for the others, security headers without X-Powered-By, and a full disk answered
 * 503 with Retry-After on ingestion with /health naming the event store.
 */
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { startEngine, type TestEngine } from './support';

const ORIGIN = 'https://shop.example.com';

const preflight = (engine: TestEngine, path: string, method = 'POST', origin = ORIGIN) =>
  fetch(`${engine.url}${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type' },
  });

describe('HTTP edge', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startEngine({ env: { JOURNEY_ROLES: 'api' } });
  });
  afterAll(() => engine?.close());

  it.each(['/v1/track', '/v1/identify', '/v1/batch', '/v1/customers/u1/inbox/m1/opened'])(
    'answers a browser preflight of %s from any origin',
    async (path) => {
      const res = await preflight(engine, path);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-methods')).toContain('POST');
      expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toBe('authorization,content-type');
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    },
  );

  it('lets a browser read the answer of a cross-origin track call', async () => {
    const res = await fetch(`${engine.url}/v1/track`, {
      method: 'POST',
      headers: { origin: ORIGIN, authorization: engine.auth.write, 'content-type': 'application/json' },
      body: '{"userId":"u","event":"x"}',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-expose-headers')).toBe('Retry-After'); // a 429's or 503's wait is readable
  });

  it.each([
    ['/v1/admin/keys', 'POST'],
    ['/v1/triggers', 'POST'],
    ['/v1/customers/u1', 'GET'],
    ['/v1/customers/u1/inbox', 'GET'],
  ])('gives no CORS to %s (%s) unless JOURNEY_CORS_ORIGINS says so', async (path, method) => {
    const res = await preflight(engine, path, method);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const get = await fetch(`${engine.url}${path}`, { headers: { origin: ORIGIN, authorization: engine.auth.admin } });
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sends security headers and no X-Powered-By', async () => {
    for (const path of ['/health', '/v1/customers/nobody', '/docs']) {
      const res = await fetch(`${engine.url}${path}`, { headers: { authorization: engine.auth.admin } });
      expect(res.headers.get('x-powered-by')).toBeNull();
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('strict-transport-security')).toContain('max-age=');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    }
  });

  it('answers 503 with Retry-After when the disk is full, names the event store in /health, and recovers', async () => {
    const store = engine.app.get<EventStore>(EVENT_STORE);
    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    const spy = jest.spyOn(store, 'appendMany').mockRejectedValue(full);
    try {
      const res = await fetch(`${engine.url}/v1/batch`, {
        method: 'POST',
        headers: { authorization: engine.auth.write, 'content-type': 'application/json' },
        body: '{"batch":[{"type":"track","userId":"u","event":"x"}]}',
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('30');
      expect(await res.json()).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'the engine cannot write: its storage is full; retry later (a resent messageId is stored once)',
      });
      const health = await fetch(`${engine.url}/health`);
      expect(health.status).toBe(503);
      const body = (await health.json()) as { error: Record<string, { status: string; message: string }> };
      expect(body.error['eventStore:sqlite']).toMatchObject({ status: 'down' });
      expect(body.error['eventStore:sqlite'].message).toContain('database or disk is full');
    } finally {
      spy.mockRestore();
    }
    const res = await fetch(`${engine.url}/v1/track`, {
      method: 'POST',
      headers: { authorization: engine.auth.write, 'content-type': 'application/json' },
      body: '{"userId":"u","event":"x"}',
    });
    expect(res.status).toBe(200);
    expect((await fetch(`${engine.url}/health`)).status).toBe(200);
  });

  it('answers an ENOSPC from the WAL sync (the store wraps it in its message) with 503 too', async () => {
    const store = engine.app.get<EventStore>(EVENT_STORE);
    const spy = jest
      .spyOn(store, 'appendMany')
      .mockRejectedValue(new Error('fdatasync of /data/journey.db-wal failed after a commit: ENOSPC: no space left on device, fdatasync'));
    try {
      const res = await fetch(`${engine.url}/v1/track`, {
        method: 'POST',
        headers: { authorization: engine.auth.write, 'content-type': 'application/json' },
        body: '{"userId":"u","event":"x"}',
      });
      expect(res.status).toBe(503);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('CORS for the other routes, when configured', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startEngine({ env: { JOURNEY_ROLES: 'api', JOURNEY_CORS_ORIGINS: 'https://admin.example.com' } });
  });
  afterAll(() => engine?.close());

  it('answers the configured origin only', async () => {
    const allowed = await preflight(engine, '/v1/triggers', 'GET', 'https://admin.example.com');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://admin.example.com');
    const other = await preflight(engine, '/v1/triggers', 'GET', ORIGIN);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight(engine, '/v1/track', 'POST', ORIGIN)).headers.get('access-control-allow-origin')).toBe('*');
  });
});
