/**
 * `npm run probe:fuzz [-- --short] [--max-examples=N] [--max-time=S] [--workers=N]`: schemathesis (PyPI, in a venv under
 * .ci/cache) generates requests from the engine's OpenAPI document (/docs-json) and sends them to the engine as
 * `npm start` runs it, with valid keys: the write key (HTTP Basic, as Segment SDKs send it) on ingestion and inbox-open
 * operations, the admin key on every other one. Check: not_a_server_error (no answer is a 5xx). Short form (CI):
 * examples, coverage and fuzzing phases, 15 examples per operation; long form: every phase (stateful too), 200
 * examples. Exits 1 on any 5xx; prints each failing operation and writes the JUnit and NDJSON reports. The seed is
 * printed; PROBE_SEED=<n> replays a run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_KEY, WRITE_KEY, freePort, postJson, probeArgs, report, resultsDir, run, startProbeEngine } from './probe';
import { eventStreamOperations, readJunitFile } from './figures';
import { probeVenv } from './venv';

/** Operations that take the write key (everything else takes the admin key). */
const WRITE_KEY_OPERATIONS = { tag: 'ingestion', operationIds: ['InboxController_opened'] };
const SEEDED_CUSTOMER = 'ada';

async function main(): Promise<void> {
  const args = probeArgs();
  const maxExamples = args.number('max-examples', 200, 15);
  const maxTime = args.number('max-time', 0, 0);
  const workers = args.number('workers', 2, 2);
  const phases = args.short ? 'examples,coverage,fuzzing' : 'examples,coverage,fuzzing,stateful';
  const bin = await probeVenv();
  const out = resultsDir('fuzz');
  const dataDir = mkdtempSync(join(tmpdir(), 'journey-probe-fuzz-'));
  const engine = await startProbeEngine(dataDir, await freePort());
  let code: number;
  try {
    // Something to find: a customer with a few events (the fuzzer also writes its own).
    await postJson(
      engine.url,
      '/v1/batch',
      JSON.stringify({
        batch: [
          { type: 'identify', userId: SEEDED_CUSTOMER, traits: { name: 'Ada' } },
          { type: 'track', userId: SEEDED_CUSTOMER, event: 'Activated' },
        ],
      }),
    );
    const basic = Buffer.from(`${WRITE_KEY}:`).toString('base64');
    const config = [
      '# Written by test/probes/fuzz.ts for one run.',
      `headers = { Authorization = "Bearer ${ADMIN_KEY}" }`,
      'request-timeout = 30',
      '',
      '[[operations]]',
      `include-tag = "${WRITE_KEY_OPERATIONS.tag}"`,
      `headers = { Authorization = "Basic ${basic}" }`,
      ...WRITE_KEY_OPERATIONS.operationIds.flatMap((id) => [
        '',
        '[[operations]]',
        `include-operation-id = "${id}"`,
        `headers = { Authorization = "Basic ${basic}" }`,
      ]),
      '',
      '# The seeded customer, so the customer queries reach their logic (asOf) instead of a 404.',
      '[[operations]]',
      'include-operation-id = ["CustomersController_customer", "CustomersController_timeline"]',
      `parameters = { "path.id" = "${SEEDED_CUSTOMER}" }`,
      '',
    ].join('\n');
    const streams = eventStreamOperations(
      (await (await fetch(`${engine.url}/docs-json`)).json()) as Parameters<typeof eventStreamOperations>[0],
    );
    console.log(`fuzz: not fuzzing the event streams (they do not end; their e2e tests cover them): ${streams.join(', ') || 'none'}`);
    const configFile = join(out, 'schemathesis.toml');
    writeFileSync(configFile, config);
    code = await run(
      join(bin, 'schemathesis'),
      [
        '--config-file',
        configFile,
        'run',
        `${engine.url}/docs-json`,
        '--checks',
        'not_a_server_error',
        ...streams.flatMap((id) => ['--exclude-operation-id', id]),
        '--phases',
        phases,
        '--max-examples',
        String(maxExamples),
        ...(maxTime > 0 ? ['--max-time', String(maxTime)] : []),
        '--workers',
        String(workers),
        '--seed',
        String(Number(process.env.PROBE_SEED ?? Date.now() % 1_000_000)),
        '--report',
        'junit,ndjson',
        '--report-junit-path',
        join(out, 'junit.xml'),
        '--report-ndjson-path',
        join(out, 'events.ndjson'),
        '--no-color',
      ],
      { timeoutMs: args.short ? 10 * 60_000 : undefined },
    );
  } finally {
    await engine.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }

  // The JUnit report: one testcase per operation; a <failure> per distinct check failure (here: a 5xx), an <error> when
  // schemathesis itself could not run a case (reported, not counted as a 5xx).
  const junit = readJunitFile(join(out, 'junit.xml'));
  const failing = junit.filter((t) => t.failures.length > 0);
  for (const t of failing) console.error(`fuzz: 5xx from ${t.name}: ${t.failures.length} distinct failure(s)\n${t.failures.join('\n')}`);
  const toolErrors = junit.filter((t) => t.errors.length > 0);
  for (const t of toolErrors)
    console.error(`fuzz: schemathesis could not run every case of ${t.name} (not a 5xx): ${t.errors.join(' | ').slice(0, 300)}`);
  const failures = failing.map((t) => `${t.name} answered 5xx (${t.failures.length} distinct)`);
  if (junit.length === 0) failures.push(`the JUnit report lists no operation: nothing was tested (schemathesis exited ${code})`);
  report('fuzz', failures, {
    operations: junit.length,
    failingOperations: failing.length,
    toolErrors: toolErrors.length,
    schemathesisExit: code,
    maxExamples,
    phases,
    results: out,
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
