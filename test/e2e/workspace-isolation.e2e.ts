import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startEngine, type TestEngine } from './support';
import { ProjectionsService } from '../../apps/engine/src/projections/projections.service';

// Two workspaces whose ids collide once joined with "-": acme's customer "eu-bob" and acme-eu's customer "bob".
const ACME = 'Bearer acme-admin-isolation';
const EU = 'Bearer acme-eu-admin-isolation';
const EU_WRITE = 'Bearer acme-eu-write-isolation';

const welcome = {
  id: 'welcome',
  name: 'Welcome',
  entry: { event: 'CustomerIdentified' },
  steps: [{ send: { channel: 'inbox', body: 'Hi' } }],
};

describe('workspaces whose ids share a prefix stay apart', () => {
  let engine: TestEngine;
  let dataDir: string;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'journey-isolation-e2e-'));
    writeFileSync(
      join(dataDir, 'keys.json'),
      JSON.stringify({
        keys: [
          { key: 'acme-admin-isolation', workspaceId: 'acme', role: 'admin' },
          { key: 'acme-eu-admin-isolation', workspaceId: 'acme-eu', role: 'admin' },
          { key: 'acme-eu-write-isolation', workspaceId: 'acme-eu', role: 'write' },
        ],
      }),
    );
    engine = await startEngine({ dataDir, env: { JOURNEY_ROLES: 'api,projector' } });
    http = request(engine.app.getHttpServer());
    await http
      .post('/v1/identify')
      .set('Authorization', EU_WRITE)
      .send({ userId: 'bob', traits: { name: 'Bob of acme-eu' }, timestamp: '2025-01-01T00:00:00Z' })
      .expect(200);
    await http
      .post('/v1/triggers')
      .set('Authorization', EU)
      .send({ ...welcome, id: 'welcome' })
      .expect(201);
    await engine.app.get(ProjectionsService).waitForCatchUp();
  });

  afterAll(async () => {
    await engine?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lets acme-eu read its own customer and trigger', async () => {
    expect((await http.get('/v1/customers/bob').set('Authorization', EU).expect(200)).body.traits).toEqual({ name: 'Bob of acme-eu' });
    expect((await http.get('/v1/customers/bob/timeline').set('Authorization', EU).expect(200)).body.entries.length).toBeGreaterThan(0);
    await http.get('/v1/triggers/welcome').set('Authorization', EU).expect(200);
  });

  it("never shows acme-eu's customer to acme as a customer whose id continues the workspace id", async () => {
    await http.get('/v1/customers/eu-bob').set('Authorization', ACME).expect(404);
    await http.get('/v1/customers/eu-bob/timeline').set('Authorization', ACME).expect(404);
    await http.get('/v1/customers/eu-bob').query({ asOf: '2030-01-01T00:00:00Z' }).set('Authorization', ACME).expect(404);
    await http.get('/v1/customers/eu-bob/timeline').query({ asOf: '2030-01-01T00:00:00Z' }).set('Authorization', ACME).expect(404);
    await http.get('/v1/customers/bob').set('Authorization', ACME).expect(404);
  });

  it("never shows acme-eu's triggers to acme", async () => {
    await http.get('/v1/triggers/eu-welcome').set('Authorization', ACME).expect(404);
    await http.get('/v1/triggers/welcome').set('Authorization', ACME).expect(404);
    const list = (await http.get('/v1/triggers').set('Authorization', ACME).expect(200)).body;
    expect(JSON.stringify(list)).not.toContain('welcome');
  });
});
