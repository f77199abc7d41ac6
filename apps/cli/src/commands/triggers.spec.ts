import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  customerStreamId,
  decideTrigger,
  evolveTrigger,
  initialTriggerState,
  triggerStreamId,
  type JourneyEvent,
  type TriggerState,
} from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase } from '@journey/event-store';
import { buildProgram } from '../main';
import { TriggersApi, deploy, diffDefinitions } from './triggers';

const dir = mkdtempSync(join(tmpdir(), 'journey-cli-triggers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const welcome = {
  id: 'welcome',
  name: 'Welcome',
  entry: { event: 'Signed Up' },
  steps: [{ send: { channel: 'email', subject: 'Welcome', body: 'hi' } }],
};
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const validFile = file('welcome.json', JSON.stringify(welcome));
const yamlFile = file(
  'welcome-v2.yaml',
  'id: welcome\nname: Welcome!\nentry: { event: Signed Up }\nsteps:\n  - wait: { duration: 1h }\n  - send: { channel: inbox, body: hi }\n',
);
const invalidFile = file('bad.yaml', 'id: bad\nname: Bad\nentry: { event: X }\nsteps:\n  - wait: { duration: soon }\n');

/** Runs `journey …` and captures what it printed and the exit code it set. */
async function journey(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((line: string) => void out.push(line));
  const error = jest.spyOn(console, 'error').mockImplementation((line: string) => void err.push(line));
  process.exitCode = undefined;
  try {
    await buildProgram()
      .exitOverride()
      .parseAsync(['node', 'journey', ...args]);
    return { out: out.join('\n'), err: err.join('\n'), code: process.exitCode ?? 0 };
  } finally {
    process.exitCode = undefined;
    log.mockRestore();
    error.mockRestore();
  }
}

/** A data directory with two customers' history and two stored versions of `welcome`. */
async function dataDir(): Promise<string> {
  const d = mkdtempSync(join(dir, 'data-'));
  const db = openSqliteDatabase(join(d, 'journey.db'));
  const store = new SqliteEventStore(db);
  const track = (customerId: string, n: number, at: string): JourneyEvent => ({
    id: `${customerId}-${n}`,
    type: 'InteractionRecorded',
    data: { event: 'Signed Up', properties: {} },
    metadata: { workspaceId: 'default', customerId, occurredAt: at, recordedAt: at, source: 'test', schemaVersion: 1 },
  });
  await store.appendToStream(customerStreamId('default', 'u1'), [track('u1', 1, '2025-01-01T09:00:00Z')]);
  await store.appendToStream(customerStreamId('default', 'u2'), [track('u2', 1, '2025-01-10T09:00:00Z')]);
  let state: TriggerState = initialTriggerState('welcome');
  for (const definition of [welcome, { ...welcome, name: 'Hello', steps: [...welcome.steps, { exit: { reason: 'done' } }] }]) {
    const events = decideTrigger({ type: 'DefineTrigger', definition }, state, {
      workspaceId: 'default',
      now: new Date('2025-01-01T00:00:00Z'),
    });
    for (const e of events) state = evolveTrigger(state, e);
    await store.appendToStream(triggerStreamId('default', 'welcome'), events);
  }
  await store.close();
  db.close();
  return d;
}

describe('journey triggers validate', () => {
  it('accepts valid YAML and JSON files', async () => {
    expect(await journey('triggers', 'validate', validFile, yamlFile)).toEqual({
      out: `ok ${validFile} (welcome)\nok ${yamlFile} (welcome)`,
      err: '',
      code: 0,
    });
  });

  it('exits 1 naming the file and the path of each error', async () => {
    const r = await journey('triggers', 'validate', validFile, invalidFile, join(dir, 'missing.yaml'));
    expect(r.code).toBe(1);
    expect(r.err.split('\n')).toEqual([
      `${invalidFile}: steps[0].wait.duration: expected a duration like "3d", got "soon"`,
      `${join(dir, 'missing.yaml')}: no such file`,
    ]);
  });
  it('refuses what deploying would refuse: a template that does not parse or reads files, an unknown channel', async () => {
    const bad = file(
      'bad-send.yaml',
      'id: bad-send\nname: Bad\nentry: { event: X }\nsteps:\n  - send: { channel: sms, body: "{% include \'secrets\' %}" }\n',
    );
    const r = await journey('triggers', 'validate', bad);
    expect(r.code).toBe(1);
    expect(r.err.split('\n')).toEqual([
      `${bad}: steps[0].send.channel: unknown channel "sms"; expected one of email, inbox, log, slack, webhook`,
      `${bad}: steps[0].send.body: not a valid template: the "include" tag is not allowed: templates cannot read files, line:1, col:1`,
    ]);
  });
});

describe('journey triggers backtest', () => {
  it('replays a file over the data directory and prints the per-step report', async () => {
    const d = await dataDir();
    const r = await journey('triggers', 'backtest', yamlFile, '--data-dir', d, '--to', '2025-02-01T00:00:00Z');
    expect(r.out).toContain('backtest of welcome v1 over [the beginning, 2025-02-01T00:00:00.000Z)');
    expect(r.out).toContain('entered: 2 runs by 2 customers (e.g. u1, u2)');
    expect(r.out).toMatch(/\[0\] wait 1h: 2 runs, 2 customers/);
    expect(r.out).toMatch(/\[1\] send inbox: 2 runs, 2 customers; sent: inbox 2; suppressed: none/);
    const json = JSON.parse(
      (await journey('triggers', 'backtest', yamlFile, '-d', d, '--from', '2025-01-05', '--to', '2025-02-01', '--json')).out,
    );
    expect(json).toMatchObject({ eventsReplayed: 1, contextEvents: 1, entered: { runs: 1, sampleCustomerIds: ['u2'] } });
  });

  it('fails clearly on a bad time or a missing data directory', async () => {
    await expect(journey('triggers', 'backtest', yamlFile, '-d', join(dir, 'nowhere'))).rejects.toThrow(/no engine data in/);
    await expect(journey('triggers', 'backtest', yamlFile, '-d', await dataDir(), '--from', 'soon')).rejects.toThrow(
      '--from: expected an ISO 8601 date or date-time, got "soon"',
    );
  });
});

describe('journey triggers diff', () => {
  it('diffs two stored versions, and a file against the deployed latest version', async () => {
    const d = await dataDir();
    const versions = await journey('triggers', 'diff', 'welcome', '1', '2', '-d', d);
    expect(versions.out.split('\n')).toEqual([
      '--- welcome v1',
      '+++ welcome v2',
      '~ name: "Welcome" -> "Hello"',
      '+ steps[1]: {"exit":{"reason":"done"}}',
    ]);
    const fileVsDeployed = await journey('triggers', 'diff', validFile, '-d', d);
    expect(fileVsDeployed.out.split('\n')).toEqual([
      '--- welcome v2 (deployed)',
      `+++ ${validFile}`,
      '~ name: "Hello" -> "Welcome"',
      '- steps[1]: {"exit":{"reason":"done"}}',
    ]);
    await expect(journey('triggers', 'diff', 'welcome', '1', '7', '-d', d)).rejects.toThrow(
      'trigger "welcome" has no version 7 (versions 1 to 2)',
    );
  });

  it('reports nested changes by path and nothing for equal documents', () => {
    expect(diffDefinitions(welcome, JSON.parse(JSON.stringify(welcome)))).toEqual([]);
    expect(diffDefinitions({ a: { b: [1, 2] } }, { a: { b: [1, 3], c: true } })).toEqual(['~ a.b[1]: 2 -> 3', '+ a.c: true']);
  });
});

describe('journey triggers deploy and list', () => {
  let server: Server;
  let url: string;
  const requests: string[] = [];
  const stored = new Map<string, unknown>();

  beforeAll(async () => {
    // A stand-in for the engine's trigger API (DESIGN.md: POST /v1/triggers, GET/PUT /v1/triggers/:id, POST …/enable).
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        requests.push(`${req.method} ${req.url} ${req.headers.authorization}${body ? ` ${JSON.parse(body).name}` : ''}`);
        const id = decodeURIComponent(req.url!.split('/')[3] ?? '');
        const send = (status: number, payload: unknown) =>
          res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
        if (req.method === 'GET' && req.url === '/v1/triggers')
          return send(
            200,
            [...stored.entries()].map(([tid, d]) => ({ id: tid, version: 1, enabled: true, name: (d as { name: string }).name })),
          );
        if (req.method === 'POST' && req.url === '/v1/triggers') return (stored.set(JSON.parse(body).id, JSON.parse(body)), send(201, {}));
        if (req.method === 'GET') return stored.has(id) ? send(200, stored.get(id)) : send(404, { message: 'not found' });
        if (req.method === 'PUT') return (stored.set(id, JSON.parse(body)), send(200, {}));
        if (req.url!.endsWith('/enable')) return send(id === 'locked' ? 409 : 200, { message: 'cannot enable' });
        send(404, { message: 'no route' });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('creates, then updates and enables, with the key; list prints the triggers', async () => {
    expect((await journey('triggers', 'deploy', validFile, '--url', url, '--key', 'k1')).out).toBe('welcome: created');
    expect((await journey('triggers', 'deploy', yamlFile, '--url', url, '--key', 'k1', '--enable')).out).toBe(
      'welcome: updated and enabled',
    );
    expect(requests).toEqual([
      'GET /v1/triggers/welcome Bearer k1',
      'POST /v1/triggers Bearer k1 Welcome',
      'GET /v1/triggers/welcome Bearer k1',
      'PUT /v1/triggers/welcome Bearer k1 Welcome!',
      'POST /v1/triggers/welcome/enable Bearer k1',
    ]);
    expect((await journey('triggers', 'list', '--url', url, '--key', 'k1')).out).toBe('welcome\tv1\tenabled\tWelcome!');
  });

  it('sends nothing when a file is invalid, and reports the engine’s refusal', async () => {
    requests.length = 0;
    await expect(deploy([validFile, invalidFile], new TriggersApi(url, 'k'), true)).rejects.toThrow(
      /bad.yaml is not a valid trigger:\n {2}steps\[0\]\.wait\.duration/,
    );
    expect(requests).toEqual([]);
    const locked = file('locked.json', JSON.stringify({ ...welcome, id: 'locked' }));
    await expect(deploy([locked], new TriggersApi(url, 'k'), true)).rejects.toThrow(
      'POST /v1/triggers/locked/enable answered 409: cannot enable',
    );
    await expect(deploy([validFile], new TriggersApi('http://127.0.0.1:1', 'k'), false)).rejects.toThrow(
      /cannot reach the engine at http:\/\/127.0.0.1:1/,
    );
  });
});
