/**
 * Keys over the admin API: create, list, rotate, revoke without a restart, in two engines on one data directory (two
 * processes serving the API: each follows the other's key changes through the event log); workspaces `acme` and
 * `acme-eu` never see each other's keys; the last admin key of a workspace stays; nothing in plaintext at rest; and
 * per-key rate limits.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { startEngine, type TestEngine } from '../../../../test/e2e/support';
import { waitFor } from '../../../../test/support/wait';

const FILE_KEYS = { acmeAdmin: 'ak-acme-file-0001', euAdmin: 'ak-acme-eu-file-0002', acmeWrite: 'wk-acme-file-0003' };

async function call(engine: TestEngine, key: string | undefined, method: string, path: string, body?: unknown) {
  const res = await fetch(`${engine.url}${path}`, {
    method,
    headers: { ...(key && { authorization: `Bearer ${key}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    text,
    body: (text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined) as any,
  };
}

/** Whether `key` is accepted by `engine` (a read every role but write may make: 403 means known, 401 unknown). */
const accepted = async (engine: TestEngine, key: string) => (await call(engine, key, 'GET', '/v1/analytics/stages')).status !== 401;

describe('keys over the admin API', () => {
  let dataDir: string;
  let a: TestEngine;
  let b: TestEngine;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'journey-keys-e2e-'));
    writeFileSync(
      join(dataDir, 'keys.json'),
      JSON.stringify({
        keys: [
          { key: FILE_KEYS.acmeAdmin, workspaceId: 'acme', role: 'admin' },
          { key: FILE_KEYS.euAdmin, workspaceId: 'acme-eu', role: 'admin' },
          { key: FILE_KEYS.acmeWrite, workspaceId: 'acme', role: 'write' },
        ],
      }),
    );
    const env = { JOURNEY_ROLES: 'api', JOURNEY_WRITE_KEY: 'wk-default-e2e', JOURNEY_ADMIN_KEY: 'ak-default-e2e' };
    a = await startEngine({ dataDir, env });
    b = await startEngine({ dataDir, env });
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('rewrote the plaintext keys.json with hashes; the file keys work', async () => {
    const text = readFileSync(join(dataDir, 'keys.json'), 'utf8');
    for (const key of Object.values(FILE_KEYS)) expect(text).not.toContain(key);
    expect((await call(a, FILE_KEYS.acmeAdmin, 'GET', '/v1/admin/keys')).status).toBe(200);
    expect((await call(b, FILE_KEYS.euAdmin, 'GET', '/v1/admin/keys')).status).toBe(200);
  });

  it('creates a key that works at once here and in the other process, shown once; lists keys without them', async () => {
    const created = await call(a, FILE_KEYS.acmeAdmin, 'POST', '/v1/admin/keys', { role: 'csm', name: 'Sam (CSM)' });
    expect(created.status).toBe(201);
    const { key, id } = created.body;
    expect(created.body).toMatchObject({ role: 'csm', name: 'Sam (CSM)', lastFour: key.slice(-4), source: 'api' });
    expect((await call(a, key, 'GET', '/v1/triggers')).status).toBe(200);
    await waitFor(async () => (await call(b, key, 'GET', '/v1/triggers')).status === 200, 'the other process to accept the new key');

    const listed = await call(b, FILE_KEYS.acmeAdmin, 'GET', '/v1/admin/keys');
    expect(listed.body.keys.map((k: { id: string; role: string }) => [k.id, k.role])).toEqual(expect.arrayContaining([[id, 'csm']]));
    expect(listed.body.keys.every((k: object) => Object.keys(k).sort().join() === 'createdAt,id,lastFour,name,role,source')).toBe(true);
    expect(listed.text).not.toContain(key);
    expect(listed.text).not.toContain('sha256');

    // hashes only in the log too
    const log = await a.app.get<EventStore>(EVENT_STORE).readAll({ filter: { streamPrefixes: ['apikeys-'] } });
    expect(log.length).toBeGreaterThan(0);
    expect(JSON.stringify(log.map((e) => e.data))).not.toContain(key);
  });

  it('scopes keys to the workspace: acme-eu sees none of acme’s and cannot rotate or revoke them', async () => {
    const created = (await call(a, FILE_KEYS.acmeAdmin, 'POST', '/v1/admin/keys', { role: 'analyst' })).body;
    const eu = await call(a, FILE_KEYS.euAdmin, 'GET', '/v1/admin/keys');
    expect(eu.body.keys.map((k: { id: string }) => k.id)).not.toContain(created.id);
    expect(eu.body.keys.map((k: { lastFour: string }) => k.lastFour)).toEqual([FILE_KEYS.euAdmin.slice(-4)]);
    expect((await call(a, FILE_KEYS.euAdmin, 'POST', `/v1/admin/keys/${created.id}/rotate`)).status).toBe(404);
    expect((await call(b, FILE_KEYS.euAdmin, 'DELETE', `/v1/admin/keys/${created.id}`)).status).toBe(404);
    expect(await accepted(a, created.key)).toBe(true);
    // a key of acme-eu is made in acme-eu, whatever the body says
    const attempt = await call(a, FILE_KEYS.acmeAdmin, 'POST', '/v1/admin/keys', { role: 'admin', workspaceId: 'acme-eu' });
    expect(attempt.status).toBe(400);
    expect(attempt.body.errors.map((e: { path: string }) => e.path)).toEqual(['workspaceId']);
  });

  it('rotates a key: the new one works everywhere and the old one stops', async () => {
    const old = (await call(a, FILE_KEYS.acmeAdmin, 'POST', '/v1/admin/keys', { role: 'write', name: 'website' })).body;
    const rotated = await call(b, FILE_KEYS.acmeAdmin, 'POST', `/v1/admin/keys/${old.id}/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ replaces: old.id, role: 'write', name: 'website' });
    expect(rotated.body.key).not.toBe(old.key);
    expect(await accepted(b, old.key)).toBe(false);
    await waitFor(async () => !(await accepted(a, old.key)), 'the other process to refuse the rotated key');
    await waitFor(
      async () =>
        (
          await fetch(`${a.url}/v1/track`, {
            method: 'POST',
            headers: { authorization: `Bearer ${rotated.body.key}`, 'content-type': 'application/json' },
            body: '{"userId":"u","event":"x"}',
          })
        ).status === 200,
      'the new write key to ingest in the other process',
    );
  });

  it('revokes a key at once in every process; never the last admin key of a workspace (409)', async () => {
    const listed = (await call(a, FILE_KEYS.euAdmin, 'GET', '/v1/admin/keys')).body.keys;
    expect(listed).toHaveLength(1);
    const last = await call(a, FILE_KEYS.euAdmin, 'DELETE', `/v1/admin/keys/${listed[0].id}`);
    expect(last.status).toBe(409);
    expect(last.body.message).toContain('last admin key');

    const second = (await call(b, FILE_KEYS.euAdmin, 'POST', '/v1/admin/keys', { role: 'admin', name: 'second admin' })).body;
    await waitFor(() => accepted(a, second.key), 'the new admin key in the other process');
    expect((await call(a, second.key, 'DELETE', `/v1/admin/keys/${listed[0].id}`)).status).toBe(204);
    expect(await accepted(a, FILE_KEYS.euAdmin)).toBe(false);
    await waitFor(async () => !(await accepted(b, FILE_KEYS.euAdmin)), 'the other process to refuse the revoked key');
    expect((await call(b, second.key, 'DELETE', `/v1/admin/keys/${second.id}`)).status).toBe(409);
    expect((await call(b, second.key, 'DELETE', '/v1/admin/keys/key_unknown')).status).toBe(404);
  });

  it('validates new keys, naming the field; only admin keys manage keys', async () => {
    const bad = await call(a, FILE_KEYS.acmeAdmin, 'POST', '/v1/admin/keys', { role: 'root', name: 7 });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(['role', 'name']);
    expect((await call(a, FILE_KEYS.acmeAdmin, 'POST', '/v1/admin/keys', [1])).status).toBe(400);
    expect((await call(a, FILE_KEYS.acmeWrite, 'GET', '/v1/admin/keys')).status).toBe(403);
    const csm = (await call(a, FILE_KEYS.acmeAdmin, 'POST', '/v1/admin/keys', { role: 'csm' })).body;
    expect((await call(a, csm.key, 'POST', '/v1/admin/keys', { role: 'admin' })).status).toBe(403);
  });

  it('keeps created and revoked keys across a restart (the seeded keys still seed)', async () => {
    const kept = (await call(a, FILE_KEYS.acmeAdmin, 'POST', '/v1/admin/keys', { role: 'analyst', name: 'kept' })).body;
    const gone = (await call(a, FILE_KEYS.acmeAdmin, 'POST', '/v1/admin/keys', { role: 'analyst', name: 'gone' })).body;
    expect((await call(a, FILE_KEYS.acmeAdmin, 'DELETE', `/v1/admin/keys/${gone.id}`)).status).toBe(204);
    await a.close();
    a = await startEngine({
      dataDir,
      env: { JOURNEY_ROLES: 'api', JOURNEY_WRITE_KEY: 'wk-default-e2e', JOURNEY_ADMIN_KEY: 'ak-default-e2e' },
    });
    expect(await accepted(a, kept.key)).toBe(true);
    expect(await accepted(a, gone.key)).toBe(false);
    expect(await accepted(a, FILE_KEYS.euAdmin)).toBe(false); // revoked above, although keys.json still lists it
    expect(await accepted(a, 'ak-default-e2e')).toBe(true);
    expect((await call(a, 'ak-default-e2e', 'GET', '/v1/admin/keys')).body.keys.map((k: { name: string }) => k.name).sort()).toEqual([
      'JOURNEY_ADMIN_KEY',
      'JOURNEY_WRITE_KEY',
    ]);
  });

  // last: it revokes one of acme's two admin keys
  it('lets only one of two concurrent revocations of the last two admin keys win, across processes', async () => {
    const first = (await call(a, FILE_KEYS.acmeAdmin, 'POST', '/v1/admin/keys', { role: 'admin', name: 'race 1' })).body;
    const admins = (await call(a, FILE_KEYS.acmeAdmin, 'GET', '/v1/admin/keys')).body.keys.filter(
      (k: { role: string }) => k.role === 'admin',
    );
    // leave exactly two admin keys: the file's and `first`
    for (const k of admins)
      if (k.id !== first.id && k.lastFour !== FILE_KEYS.acmeAdmin.slice(-4))
        expect((await call(a, first.key, 'DELETE', `/v1/admin/keys/${k.id}`)).status).toBe(204);
    const fileAdmin = admins.find((k: { lastFour: string }) => k.lastFour === FILE_KEYS.acmeAdmin.slice(-4));
    await waitFor(() => accepted(b, first.key), 'the new admin key in the other process');
    const [x, y] = await Promise.all([
      call(a, first.key, 'DELETE', `/v1/admin/keys/${fileAdmin.id}`),
      call(b, FILE_KEYS.acmeAdmin, 'DELETE', `/v1/admin/keys/${first.id}`),
    ]);
    expect([x.status, y.status].sort()).toEqual([204, 409]);
    const left = (await call(a, x.status === 204 ? first.key : FILE_KEYS.acmeAdmin, 'GET', '/v1/admin/keys')).body.keys.filter(
      (k: { role: string }) => k.role === 'admin',
    );
    expect(left).toHaveLength(1);
  });
});

describe('per-key rate limits', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    // one request per 100 s after a burst of 2: the third request of a key is refused whatever the machine's speed
    engine = await startEngine({ env: { JOURNEY_ROLES: 'api', JOURNEY_RATE_LIMIT_PER_SECOND: '0.01', JOURNEY_RATE_LIMIT_BURST: '2' } });
  });
  afterAll(() => engine?.close());

  it('answers 429 with Retry-After once a key is over its limit; other keys are not affected', async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await call(engine, engine.adminKey, 'GET', '/v1/triggers'));
    expect(statuses.map((r) => r.status)).toEqual([200, 200, 429]);
    const refused = statuses[2];
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
    expect(refused.body.message).toContain('0.01 requests/s');
    const track = await fetch(`${engine.url}/v1/track`, {
      method: 'POST',
      headers: { authorization: engine.auth.write, 'content-type': 'application/json' },
      body: '{"userId":"u","event":"x"}',
    });
    expect(track.status).toBe(200);
    expect((await fetch(`${engine.url}/health`)).status).toBe(200); // no key, no limit
  });
});
