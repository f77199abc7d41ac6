import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { startEngine, type TestEngine } from './support';

/** The OpenAPI document (/docs-json) is what clients and the fuzz probe (test/probes/fuzz.ts) generate requests from. */
describe('OpenAPI document', () => {
  let engine: TestEngine;
  let doc: {
    paths: Record<
      string,
      Record<string, { security?: unknown[]; requestBody?: { content: Record<string, { schema: Record<string, any> }> } }>
    >;
  };
  beforeAll(async () => {
    engine = await startEngine();
    doc = (await (await fetch(`${engine.url}/docs-json`)).json()) as typeof doc;
  });
  afterAll(() => engine?.close());

  const bodySchema = (path: string, method: string) => doc.paths[path][method].requestBody!.content['application/json'].schema;

  it('declares the key every operation but /health needs', () => {
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ at: `${method.toUpperCase()} ${path}`, security: op.security })),
    );
    expect(operations.length).toBeGreaterThan(20);
    expect(operations.filter((o) => o.at !== 'GET /health' && !o.security?.length).map((o) => o.at)).toEqual([]);
  });

  it('describes trigger documents in the create, update and backtest bodies, and the shipped triggers fit it', () => {
    const create = bodySchema('/v1/triggers', 'post');
    expect(create.required).toEqual(['id', 'name', 'entry', 'steps']);
    expect(bodySchema('/v1/triggers/{id}', 'put')).toEqual(create);
    expect(bodySchema('/v1/triggers/backtest', 'post').properties.definition).toEqual(create);
    expect(bodySchema('/v1/triggers/backtest', 'post').required).toEqual(['definition']);
    expect(bodySchema('/v1/triggers/{id}/backtest', 'post').properties.definition).toEqual(create);

    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    const validate = ajv.compile(create);
    const library = join(__dirname, '..', '..', 'triggers', 'library');
    const files = readdirSync(library).filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml'));
    expect(files.length).toBeGreaterThan(3);
    for (const file of files) {
      validate(parseYaml(readFileSync(join(library, file), 'utf8')));
      expect({ file, errors: validate.errors ?? null }).toEqual({ file, errors: null });
    }
    expect(validate({ id: 'x', name: 'X', entry: { event: 'E' }, steps: [] })).toBe(false);
  });
});
