import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import {
  evolveTrigger,
  formatValidationError,
  initialTriggerState,
  parseTrigger,
  triggerStreamId,
  type BacktestReport,
  type TriggerDefinition,
  type TriggerState,
  type TriggerValidationError,
} from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase } from '@journey/event-store';
import { TRIGGER_VALIDATION } from '@journey/messaging';
import { runBacktest } from '@journey/reactors';
import { formatFixtureError, isFixtureFile, loadFixture } from './trigger-fixtures';
import { exitCodeOf, formatTestRun, runTriggerTests } from './trigger-tests';

/** `journey triggers …`: triggers as code. Files are YAML or JSON trigger documents (see triggers/library). */

export type FileCheck =
  { file: string; ok: true; definition: TriggerDefinition } | { file: string; ok: false; errors: TriggerValidationError[] };

export function checkFile(file: string): FileCheck {
  if (!existsSync(file)) return { file, ok: false, errors: [{ path: '', message: 'no such file' }] };
  if (isFixtureFile(file))
    return { file, ok: false, errors: [{ path: '', message: 'is a test fixture, not a trigger: run it with `journey triggers test`' }] };
  const r = parseTrigger(readFileSync(file, 'utf8'), TRIGGER_VALIDATION);
  return r.ok ? { file, ok: true, definition: r.definition } : { file, ok: false, errors: r.errors };
}

function loadValid(file: string): TriggerDefinition {
  const r = checkFile(file);
  if (!r.ok) throw new Error(`${file} is not a valid trigger:\n${r.errors.map((e) => `  ${formatValidationError(e)}`).join('\n')}`);
  return r.definition;
}

const dataDirOf = (dir?: string) => resolve(dir ?? process.env.JOURNEY_DATA_DIR ?? './data');

async function withStore<T>(dataDir: string, use: (store: SqliteEventStore) => Promise<T>): Promise<T> {
  const file = join(dataDir, 'journey.db');
  if (!existsSync(file)) throw new Error(`no engine data in ${dataDir} (expected ${file}); set --data-dir or JOURNEY_DATA_DIR`);
  const db = openSqliteDatabase(file);
  const store = new SqliteEventStore(db);
  try {
    return await use(store);
  } finally {
    await store.close();
    db.close();
  }
}

function parseTime(name: string, value?: string): Date | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new Error(`--${name}: expected an ISO 8601 date or date-time, got "${value}"`);
  return new Date(ms);
}

/** Replays a trigger file over the embedded store of a data directory (read only); a progress bar on long replays. */
export async function backtestFile(
  file: string,
  options: { dataDir?: string; from?: string; to?: string; workspace?: string; progress?: boolean },
): Promise<BacktestReport> {
  const definition = loadValid(file);
  const from = parseTime('from', options.from);
  const to = parseTime('to', options.to);
  return withStore(dataDirOf(options.dataDir), async (store) => {
    const head = Number(await store.headPosition());
    const bar =
      options.progress && head >= 50_000
        ? new SingleBar(
            { format: 'replaying {bar} {percentage}% | {value}/{total} log positions | {eta}s left', stream: process.stderr },
            Presets.shades_classic,
          )
        : undefined;
    bar?.start(head, 0);
    try {
      return await runBacktest(store, {
        workspaceId: options.workspace ?? 'default',
        definition,
        from,
        to,
        onProgress: (position) => bar?.update(position),
      });
    } finally {
      bar?.stop();
    }
  });
}

const counts = (c: Record<string, number>) =>
  Object.entries(c)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || 'none';

export function formatReport(r: BacktestReport): string {
  const lines = [
    `backtest of ${r.triggerId} v${r.version} over [${r.from ?? 'the beginning'}, ${r.to})`,
    `  ${r.eventsReplayed} events replayed (${r.contextEvents} earlier ones as context), ${r.customers} customers`,
    `  entered: ${r.entered.runs} runs by ${r.entered.customers} customers${r.entered.sampleCustomerIds.length ? ` (e.g. ${r.entered.sampleCustomerIds.join(', ')})` : ''}`,
    '  steps:',
  ];
  for (const s of r.steps) {
    const depth = s.step.split('.').length;
    const parts = [`${s.runs} runs, ${s.customers} customers`];
    if (s.branches) parts.push(`branches: ${counts(s.branches)}`);
    if (s.outcomes) parts.push(`ended by: ${counts(s.outcomes)}`);
    if (s.sent) parts.push(`sent: ${counts(s.sent)}`, `suppressed: ${counts(s.suppressed ?? {})}`);
    if (s.deferredByQuietHours) parts.push(`deferred by quiet hours: ${s.deferredByQuietHours}`);
    lines.push(
      `${'  '.repeat(depth + 1)}[${s.step}] ${s.label}: ${parts.join('; ')}${s.sampleCustomerIds.length ? ` (e.g. ${s.sampleCustomerIds.join(', ')})` : ''}`,
    );
  }
  lines.push(
    `  messages sent: ${counts(r.messages.sent)}; suppressed: ${counts(r.messages.suppressed)}; deferred by quiet hours: ${r.messages.deferredByQuietHours}`,
    `  exits: ${counts(r.exits)}; still active at the end: ${r.activeAtEnd}`,
  );
  return lines.join('\n');
}

/** A client of a running engine's trigger API. */
export class TriggersApi {
  constructor(
    readonly url: string,
    private readonly key: string,
  ) {}

  async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.url), {
        method,
        headers: { authorization: `Bearer ${this.key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new Error(
        `cannot reach the engine at ${this.url}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`,
        { cause: e },
      );
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.status, body: parsed };
  }

  async expectOk(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await this.call(method, path, body);
    if (res.status >= 200 && res.status < 300) return res.body;
    const message = (res.body as { message?: unknown })?.message ?? res.body;
    throw new Error(
      `${method} ${path} answered ${res.status}: ${Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : JSON.stringify(message)}`,
    );
  }
}

function api(options: { url?: string; key?: string }): TriggersApi {
  const key = options.key ?? process.env.JOURNEY_KEY ?? process.env.JOURNEY_ADMIN_KEY;
  if (!key) throw new Error('an admin or csm key is required: --key, or JOURNEY_KEY / JOURNEY_ADMIN_KEY');
  return new TriggersApi(options.url ?? process.env.JOURNEY_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`, key);
}

/** Creates or updates each trigger (validated locally first: nothing is sent when one file is invalid), optionally enabling it. */
export async function deploy(files: string[], client: TriggersApi, enable: boolean): Promise<string[]> {
  const definitions = files.map(loadValid);
  const out: string[] = [];
  for (const d of definitions) {
    const path = `/v1/triggers/${encodeURIComponent(d.id)}`;
    const existing = await client.call('GET', path);
    if (existing.status === 404) await client.expectOk('POST', '/v1/triggers', d);
    else if (existing.status === 200) await client.expectOk('PUT', path, d);
    else await client.expectOk('GET', path); // throws with the engine's answer
    if (enable) await client.expectOk('POST', `${path}/enable`);
    out.push(`${d.id}: ${existing.status === 404 ? 'created' : 'updated'}${enable ? ' and enabled' : ''}`);
  }
  return out;
}

interface TriggerSummary {
  id?: string;
  triggerId?: string;
  name?: string;
  version?: number;
  enabled?: boolean;
  definition?: { name?: string };
}

export function formatList(body: unknown): string[] {
  const items = (Array.isArray(body) ? body : ((body as { triggers?: unknown[] })?.triggers ?? [])) as TriggerSummary[];
  if (items.length === 0) return ['no triggers'];
  return items.map(
    (t) => `${t.id ?? t.triggerId}\tv${t.version ?? '?'}\t${t.enabled ? 'enabled' : 'disabled'}\t${t.name ?? t.definition?.name ?? ''}`,
  );
}

/** A readable structural diff: `~ path: old -> new`, `+ path: value`, `- path: value` (empty when equal). */
export function diffDefinitions(a: unknown, b: unknown, path = ''): string[] {
  const show = (v: unknown) => JSON.stringify(v);
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
  if (isObj(a) && isObj(b) && Array.isArray(a) === Array.isArray(b)) {
    const keys = Array.isArray(a)
      ? Array.from({ length: Math.max(a.length, (b as unknown as unknown[]).length) }, (_, i) => i)
      : [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => {
      const p = typeof k === 'number' ? `${path}[${k}]` : path ? `${path}.${k}` : k;
      const [x, y] = [(a as Record<string | number, unknown>)[k], (b as Record<string | number, unknown>)[k]];
      if (x === undefined && y === undefined) return [];
      if (x === undefined) return [`+ ${p}: ${show(y)}`];
      if (y === undefined) return [`- ${p}: ${show(x)}`];
      return diffDefinitions(x, y, p);
    });
  }
  return show(a) === show(b) ? [] : [`~ ${path || '(document)'}: ${show(a)} -> ${show(b)}`];
}

async function storedTrigger(dataDir: string, workspace: string, id: string): Promise<TriggerState> {
  return withStore(dataDir, async (store) => {
    let state = initialTriggerState(id);
    for (const e of await store.readStream(triggerStreamId(workspace, id))) state = evolveTrigger(state, e);
    if (state.version === 0) throw new Error(`trigger "${id}" is not defined in workspace ${workspace}`);
    return state;
  });
}

function version(state: TriggerState, v: string): { label: string; definition: TriggerDefinition } {
  const n = v === 'latest' ? state.version : Number(v.replace(/^v/, ''));
  const definition = state.definitions[n];
  if (!definition) throw new Error(`trigger "${state.triggerId}" has no version ${v} (versions 1 to ${state.version})`);
  return { label: `v${n}`, definition };
}

/** `diff <id> <v1> <v2>` between stored versions, or `diff <file>` between a file and the deployed latest version. */
export async function diff(
  args: string[],
  options: { dataDir?: string; workspace?: string },
): Promise<{ from: string; to: string; lines: string[] }> {
  const workspace = options.workspace ?? 'default';
  const dataDir = dataDirOf(options.dataDir);
  if (args.length === 1 && existsSync(args[0])) {
    const file = loadValid(args[0]);
    const deployed = version(await storedTrigger(dataDir, workspace, file.id), 'latest');
    return { from: `${file.id} ${deployed.label} (deployed)`, to: args[0], lines: diffDefinitions(deployed.definition, file) };
  }
  if (args.length !== 3) throw new Error('usage: journey triggers diff <id> <v1> <v2>, or journey triggers diff <file>');
  const state = await storedTrigger(dataDir, workspace, args[0]);
  const [a, b] = [version(state, args[1]), version(state, args[2])];
  return { from: `${args[0]} ${a.label}`, to: `${args[0]} ${b.label}`, lines: diffDefinitions(a.definition, b.definition) };
}

export function registerTriggersCommand(program: Command): void {
  const triggers = program.command('triggers').description('triggers as code: validate, test, backtest, deploy, list, diff');
  const dataDirOption = ['-d, --data-dir <dir>', 'the engine data directory (default: JOURNEY_DATA_DIR or ./data)'] as const;
  const workspaceOption = ['-w, --workspace <id>', 'workspace', 'default'] as const;
  const urlOption = ['--url <url>', 'a running engine (default: JOURNEY_URL or http://127.0.0.1:$PORT)'] as const;
  const keyOption = ['--key <key>', 'an admin or csm key (default: JOURNEY_KEY or JOURNEY_ADMIN_KEY)'] as const;

  triggers
    .command('validate')
    .description('check trigger files; exit 1 with every error (path: problem) when one is invalid')
    .argument('<files...>')
    .action((files: string[]) => {
      // a test fixture beside a trigger (`x.test.yaml`) is checked as a fixture
      for (const fixture of files.filter(isFixtureFile)) {
        const r = loadFixture(fixture);
        if (r.ok)
          console.log(
            `ok ${fixture} (fixture: ${r.fixture.cases.length} case${r.fixture.cases.length === 1 ? '' : 's'} of ${r.fixture.triggers.map((t) => t.definition.id).join(', ')})`,
          );
        else {
          process.exitCode = 1;
          for (const e of r.errors) console.error(formatFixtureError(e));
        }
      }
      for (const r of files.filter((f) => !isFixtureFile(f)).map(checkFile)) {
        if (r.ok) console.log(`ok ${r.file} (${r.definition.id})`);
        else {
          process.exitCode = 1;
          for (const e of r.errors) console.error(`${r.file}: ${formatValidationError(e)}`);
        }
      }
    });

  triggers
    .command('backtest')
    .description('replay a trigger file over the history in a data directory (nothing is appended or sent) and report per step')
    .argument('<file>')
    .option('--from <time>', 'start of the range (ISO 8601, inclusive); default: the beginning')
    .option('--to <time>', 'end of the range (ISO 8601, exclusive); default: now')
    .option(...dataDirOption)
    .option(...workspaceOption)
    .option('--json', 'print the report as JSON')
    .action(async (file: string, options: { from?: string; to?: string; dataDir?: string; workspace: string; json?: boolean }) => {
      const report = await backtestFile(file, { ...options, progress: process.stderr.isTTY });
      console.log(options.json ? JSON.stringify(report, null, 2) : formatReport(report));
    });

  triggers
    .command('test')
    .description(
      'run trigger test fixtures (<name>.test.yaml beside <name>.yaml) with simulated time; exit 1 on a failing case, 2 on a bad fixture',
    )
    .argument(
      '[paths...]',
      'fixture files, trigger files (their <name>.test.yaml), or directories (every *.test.yaml under them); default: ./triggers',
    )
    .option('--verbose', 'list the decided events under passing cases too')
    .addHelpText('after', TEST_HELP)
    .action((paths: string[], options: { verbose?: boolean }) => {
      const run = runTriggerTests(paths);
      const { out, err } = formatTestRun(run, options);
      for (const line of err) console.error(line);
      for (const line of out) console.log(line);
      process.exitCode = exitCodeOf(run);
    });

  triggers
    .command('deploy')
    .description('create or update triggers on a running engine through its HTTP API')
    .argument('<files...>')
    .option(...urlOption)
    .option(...keyOption)
    .option('--enable', 'enable each trigger after deploying it')
    .action(async (files: string[], options: { url?: string; key?: string; enable?: boolean }) => {
      // `deploy triggers/library/*.yaml` leaves the test fixtures beside the triggers
      for (const f of files.filter(isFixtureFile)) console.error(`skipped ${f}: a test fixture (journey triggers test)`);
      for (const line of await deploy(
        files.filter((f) => !isFixtureFile(f)),
        api(options),
        options.enable ?? false,
      ))
        console.log(line);
    });

  triggers
    .command('list')
    .description("list a running engine's triggers")
    .option(...urlOption)
    .option(...keyOption)
    .action(async (options: { url?: string; key?: string }) => {
      for (const line of formatList(await api(options).expectOk('GET', '/v1/triggers'))) console.log(line);
    });

  triggers
    .command('diff')
    .description(
      'structural diff of two stored versions (<id> <v1> <v2>, "latest" allowed), or of a file against the deployed latest version (<file>)',
    )
    .argument('<args...>')
    .option(...dataDirOption)
    .option(...workspaceOption)
    .action(async (args: string[], options: { dataDir?: string; workspace: string }) => {
      const d = await diff(args, options);
      console.log(`--- ${d.from}\n+++ ${d.to}`);
      console.log(d.lines.length ? d.lines.join('\n') : '(no differences)');
    });
}

export const TEST_HELP = `
A fixture file (YAML or JSON; the whole format: triggers/testing.md) holds cases run against the trigger beside it
(\`triggers:\` names others, relative to the fixture, to test several together):

  cases:
    - name: never activates -> the email on day 3, the inbox message two days later
      customer: { id: ada, traits: { name: Ada, timezone: Europe/Berlin } }   # context, decided on by no trigger
      given:                                   # in the order they arrive
        - { at: '2026-03-01T09:00:00Z', identify: { email: ada@example.com } }
        - { at: '+1d', track: Logged In, properties: { plan: pro } }   # +offsets count from the first event (or now:)
        - { at: '+1d', traits: { plan: team } }                        # also: stage: active, reply: "text" (sentiment:)
      until: '+10d'                            # timers fire up to here (default: 30 days after the last event)
      expect:                                  # each list exactly, in order (atLeast: true or [sends] for "these among others")
        sends:
          - { channel: email, step: 0, at: '+3d', subject: "Need a hand getting started?", body: { contains: Hi Ada } }
          - { channel: inbox, step: 'steps[1].wait.onTimeout[0]' }
        exits: [{ reason: completed }]         # also suppressed (reason), tasks (title, priority, owner, due, closed),
                                               # replies, handoffs, stages, tags; nothing: true (no message at all)

Bodies and subjects are rendered as the dispatcher renders them (strict Liquid, the traits when the message goes out);
one that does not render is a suppression with reason template-error. Each case prints a line (✓ or ✗, with what
differs and the decided events), then "N passed, N failed".`;
