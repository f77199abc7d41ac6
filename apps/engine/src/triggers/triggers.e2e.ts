import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { triggerStreamId } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { startEngine, type TestEngine } from '../../../../test/e2e/support';

const CSM = 'Bearer csm-key-triggers';
const ANALYST = 'Bearer analyst-key-triggers';
const OTHER = 'Bearer other-ws-csm-triggers';
const LIBRARY = join(__dirname, '../../../../triggers/library');

const thanks = (body = 'Thanks {{ traits.name }}!') => ({
  id: 'upgrade-thanks',
  name: 'Upgrade thanks',
  entry: { event: 'Plan Upgraded' },
  steps: [{ send: { channel: 'inbox', body } }],
});

describe('triggers over HTTP', () => {
  let engine: TestEngine;
  let dataDir: string;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'journey-triggers-e2e-'));
    writeFileSync(
      join(dataDir, 'keys.json'),
      JSON.stringify({
        keys: [
          { key: 'csm-key-triggers', workspaceId: 'default', role: 'csm' },
          { key: 'analyst-key-triggers', workspaceId: 'default', role: 'analyst' },
          { key: 'other-ws-csm-triggers', workspaceId: 'other', role: 'csm' },
        ],
      }),
    );
    engine = await startEngine({ dataDir, env: { JOURNEY_ROLES: 'api' } });
    http = request(engine.app.getHttpServer());
  });

  afterAll(async () => {
    await engine?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('defines, versions, enables and disables a trigger; every change is an event of the trigger stream', async () => {
    const created = await http.post('/v1/triggers').set('Authorization', CSM).send(thanks()).expect(201);
    expect(created.body).toEqual({ id: 'upgrade-thanks', name: 'Upgrade thanks', version: 1, enabled: false, changed: true });
    expect(created.headers.etag).toBe('"1"');
    await http.post('/v1/triggers').set('Authorization', CSM).send(thanks()).expect(409);

    // the same document again is not a new version
    expect((await http.put('/v1/triggers/upgrade-thanks').set('Authorization', CSM).send(thanks()).expect(200)).body).toMatchObject({
      version: 1,
      changed: false,
    });
    const v2 = await http
      .put('/v1/triggers/upgrade-thanks')
      .set('Authorization', CSM)
      .set('If-Match', '"1"')
      .send(thanks('Cheers!'))
      .expect(200);
    expect(v2.body).toMatchObject({ version: 2, changed: true });
    expect((await http.post('/v1/triggers/upgrade-thanks/enable').set('Authorization', engine.auth.admin).expect(200)).body).toMatchObject({
      version: 2,
      enabled: true,
      changed: true,
    });

    const list = await http.get('/v1/triggers').set('Authorization', CSM).expect(200);
    expect(list.body.triggers).toEqual([{ id: 'upgrade-thanks', name: 'Upgrade thanks', version: 2, enabled: true, everEnabled: true }]);

    const current = await http.get('/v1/triggers/upgrade-thanks').set('Authorization', CSM).expect(200);
    expect(current.body.definition.steps[0].send.body).toBe('Cheers!');
    expect(current.body.versions.map((v: { version: number; definedBy: string }) => [v.version, v.definedBy])).toEqual([
      [1, 'http:csm'],
      [2, 'http:csm'],
    ]);
    const first = await http.get('/v1/triggers/upgrade-thanks?version=1').set('Authorization', CSM).expect(200);
    expect(first.body).toMatchObject({ version: 2, shownVersion: 1 });
    expect(first.body.definition.steps[0].send.body).toBe('Thanks {{ traits.name }}!');
    await http.get('/v1/triggers/upgrade-thanks?version=3').set('Authorization', CSM).expect(404);
    await http.get('/v1/triggers/upgrade-thanks?version=zero').set('Authorization', CSM).expect(400);

    expect((await http.post('/v1/triggers/upgrade-thanks/disable').set('Authorization', CSM).expect(200)).body).toMatchObject({
      enabled: false,
      changed: true,
    });
    const stream = await engine.app.get<EventStore>(EVENT_STORE).readStream(triggerStreamId('default', 'upgrade-thanks'));
    expect(stream.map((e) => e.type)).toEqual(['TriggerDefined', 'TriggerDefined', 'TriggerEnabled', 'TriggerDisabled']);
  });

  it('takes YAML documents (the trigger library) with Content-Type application/yaml or text/yaml', async () => {
    const yaml = readFileSync(join(LIBRARY, 'onboarding-activation-nudge.yaml'), 'utf8');
    const res = await http.post('/v1/triggers').set('Authorization', CSM).set('Content-Type', 'application/yaml').send(yaml).expect(201);
    expect(res.body).toMatchObject({ id: 'onboarding-activation-nudge', name: 'Activation nudge', version: 1 });
    const edited = yaml.replace('for: 3d', 'for: 1d');
    expect(
      (
        await http
          .put('/v1/triggers/onboarding-activation-nudge')
          .set('Authorization', CSM)
          .set('Content-Type', 'text/yaml')
          .send(edited)
          .expect(200)
      ).body.version,
    ).toBe(2);
    const bad = await http
      .put('/v1/triggers/onboarding-activation-nudge')
      .set('Authorization', CSM)
      .set('Content-Type', 'text/yaml')
      .send('id: [unclosed')
      .expect(400);
    expect(bad.body.message).toMatch(/not valid YAML/);
  });

  it('rejects invalid documents with 400 and every `path: expected ...` error, storing nothing', async () => {
    const res = await http
      .post('/v1/triggers')
      .set('Authorization', CSM)
      .send({
        id: 'broken',
        name: 'Broken',
        entry: { event: 'X' },
        steps: [{ wait: { duration: 'soon' } }, { send: { channel: 'inbox' } }],
      })
      .expect(400);
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^steps\[0\]\.wait\.duration: expected a duration like "3d", got "soon"$/),
        expect.stringMatching(/^steps\[1\]\.send\.body: /),
      ]),
    );
    expect(res.body.message).toMatch(/^invalid trigger: /);
    await http.get('/v1/triggers/broken').set('Authorization', CSM).expect(404);
    // the body's id must be the trigger's
    const mismatch = await http
      .put('/v1/triggers/upgrade-thanks')
      .set('Authorization', CSM)
      .send({ ...thanks(), id: 'other' })
      .expect(400);
    expect(mismatch.body.errors).toEqual([expect.stringMatching(/^id: expected "upgrade-thanks"/)]);
    await http.post('/v1/triggers').set('Authorization', CSM).send([1, 2]).expect(400);
  });

  it('answers 404 for unknown triggers and 409 when If-Match is not the current version', async () => {
    await http
      .put('/v1/triggers/nope')
      .set('Authorization', CSM)
      .send({ ...thanks(), id: 'nope' })
      .expect(404);
    await http.post('/v1/triggers/nope/enable').set('Authorization', CSM).expect(404);
    await http.get('/v1/triggers/nope').set('Authorization', CSM).expect(404);
    const stale = await http
      .put('/v1/triggers/upgrade-thanks')
      .set('Authorization', CSM)
      .set('If-Match', '1')
      .send(thanks('Stale edit'))
      .expect(409);
    expect(stale.body.message).toMatch(/at version 2, not 1/);
    await http.put('/v1/triggers/upgrade-thanks').set('Authorization', CSM).set('If-Match', 'latest').send(thanks('x')).expect(400);
  });

  it('serializes concurrent writers: of three edits based on the same version, one wins and the others get 409', async () => {
    await http
      .post('/v1/triggers')
      .set('Authorization', CSM)
      .send({ ...thanks(), id: 'race', name: 'Race' })
      .expect(201);
    const results = await Promise.all(
      ['A', 'B', 'C'].map((body) =>
        http
          .put('/v1/triggers/race')
          .set('Authorization', CSM)
          .set('If-Match', '1')
          .send({ ...thanks(body), id: 'race', name: 'Race' }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    const stream = await engine.app.get<EventStore>(EVENT_STORE).readStream(triggerStreamId('default', 'race'));
    expect(stream.map((e) => [e.type, e.data.version])).toEqual([
      ['TriggerDefined', 1],
      ['TriggerDefined', 2],
    ]);
  });

  it('validates a document without saving it: every error at its line and column (POST /v1/triggers/validate)', async () => {
    const yaml = [
      'id: draft-check',
      'name: Draft check',
      'entry: { event: Signed Up }',
      'steps:',
      '  - wait: { duration: soon }',
      '  - send:',
      '      channel: inbox',
      '  - frobnicate: {}',
    ].join('\n');
    const res = await http
      .post('/v1/triggers/validate')
      .set('Authorization', CSM)
      .set('Content-Type', 'application/yaml')
      .send(yaml)
      .expect(200);
    expect(res.body.valid).toBe(false);
    expect(res.body.errors).toEqual([
      {
        path: 'steps[0].wait.duration',
        message: 'expected a duration like "3d", got "soon"',
        line: 5,
        column: 23,
        endLine: 5,
        endColumn: 27,
      },
      expect.objectContaining({ path: 'steps[1].send.body', message: 'is required', line: 6, column: 5 }),
      expect.objectContaining({ path: 'steps[2]', message: expect.stringMatching(/^expected a step with exactly one of wait/), line: 8 }),
    ]);
    // nothing was stored
    await http.get('/v1/triggers/draft-check').set('Authorization', CSM).expect(404);

    // a YAML syntax error at its place
    const broken = await http
      .post('/v1/triggers/validate')
      .set('Authorization', CSM)
      .set('Content-Type', 'text/yaml')
      .send('id: x\nname: [unclosed\n')
      .expect(200);
    expect(broken.body).toMatchObject({
      valid: false,
      errors: [{ path: '', line: expect.any(Number), message: expect.stringMatching(/^not valid YAML: /) }],
    });
    expect(broken.body.errors[0].line).toBeGreaterThanOrEqual(2);

    // valid, as YAML or as JSON (no text, so no lines); ?id= refuses a document naming another trigger
    const fixed = yaml.replace('soon', '2d').replace('channel: inbox', 'channel: inbox\n      body: Hi').replace('  - frobnicate: {}', '');
    expect(
      (await http.post('/v1/triggers/validate').set('Authorization', CSM).set('Content-Type', 'application/yaml').send(fixed).expect(200))
        .body,
    ).toEqual({ valid: true, errors: [] });
    expect((await http.post('/v1/triggers/validate').set('Authorization', CSM).send(thanks()).expect(200)).body).toEqual({
      valid: true,
      errors: [],
    });
    const json = await http
      .post('/v1/triggers/validate')
      .set('Authorization', CSM)
      .send({ ...thanks(), steps: [{ wait: { duration: 'soon' } }] })
      .expect(200);
    expect(json.body.errors).toEqual([
      { path: 'steps[0].wait.duration', message: expect.any(String), line: null, column: null, endLine: null, endColumn: null },
    ]);
    const renamed = await http
      .post('/v1/triggers/validate?id=upgrade-thanks')
      .set('Authorization', CSM)
      .set('Content-Type', 'application/yaml')
      .send(fixed)
      .expect(200);
    expect(renamed.body.errors).toEqual([expect.objectContaining({ path: 'id', line: 1, column: 5 })]);

    // saved, it is a draft: never enabled
    await http.post('/v1/triggers').set('Authorization', CSM).set('Content-Type', 'application/yaml').send(fixed).expect(201);
    const list = await http.get('/v1/triggers').set('Authorization', CSM).expect(200);
    expect(list.body.triggers).toContainEqual(expect.objectContaining({ id: 'draft-check', enabled: false, everEnabled: false }));
  });

  it('enforces roles and workspaces', async () => {
    await http.post('/v1/triggers').set('Authorization', ANALYST).send(thanks()).expect(403);
    await http.post('/v1/triggers/upgrade-thanks/enable').set('Authorization', ANALYST).expect(403);
    await http.put('/v1/triggers/upgrade-thanks').set('Authorization', ANALYST).send(thanks()).expect(403);
    await http.post('/v1/triggers/validate').set('Authorization', ANALYST).send(thanks()).expect(403);
    // analysts read the definitions and their versions (the console's read-only editor), never write them
    expect((await http.get('/v1/triggers').set('Authorization', ANALYST).expect(200)).body.triggers).toContainEqual(
      expect.objectContaining({ id: 'upgrade-thanks' }),
    );
    const read = await http.get('/v1/triggers/upgrade-thanks?version=1').set('Authorization', ANALYST).expect(200);
    expect(read.body).toMatchObject({ id: 'upgrade-thanks', shownVersion: 1, versions: [{ version: 1 }, { version: 2 }] });
    await http.get('/v1/analytics/triggers').set('Authorization', ANALYST).expect(200);
    await http.get('/v1/triggers').set('Authorization', engine.auth.write).expect(403);
    await http.get('/v1/triggers').expect(401);
    expect((await http.get('/v1/triggers').set('Authorization', OTHER).expect(200)).body.triggers).toEqual([]);
    await http.get('/v1/triggers/upgrade-thanks').set('Authorization', OTHER).expect(404);
  });
});
