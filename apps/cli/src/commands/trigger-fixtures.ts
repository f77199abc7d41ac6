/**
 * Trigger test fixtures (`<name>.test.yaml` beside `<name>.yaml`): the file format, its discovery and its validation.
 * The format is documented in triggers/testing.md; `journey triggers test` runs them (trigger-tests.ts).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import {
  CONVERSATION_CHANNELS,
  STAGES,
  deterministicId,
  envelope,
  formatValidationError,
  parseDuration,
  parseTrigger,
  type EventDataByType,
  type EventType,
  type JourneyEvent,
  type Stage,
  type TriggerDefinition,
} from '@journey/domain';
import { TRIGGER_VALIDATION } from '@journey/messaging';

/** A fixture file's name ends with one of these; the trigger it tests is the file without `.test` (`a.test.yaml` -> `a.yaml`). */
export const FIXTURE_SUFFIXES = ['.test.yaml', '.test.yml', '.test.json'] as const;
const TRIGGER_SUFFIXES = ['.yaml', '.yml', '.json'] as const;

export const isFixtureFile = (file: string) => FIXTURE_SUFFIXES.some((s) => file.endsWith(s));

/** Where a fixture is wrong: the file, the line, the case and the path in the document. */
export interface FixtureError {
  file: string;
  line?: number;
  caseName?: string;
  path: string;
  message: string;
}

export function formatFixtureError(e: FixtureError): string {
  const where = `${e.file}${e.line ? `:${e.line}` : ''}`;
  const inCase = e.caseName !== undefined ? ` case "${e.caseName}":` : '';
  return `${where}:${inCase} ${e.path ? `${e.path}: ` : ''}${e.message}`;
}

/**
 * The files `journey triggers test` runs for its arguments: a fixture file is itself; a trigger file is the fixture
 * beside it (`x.yaml` -> `x.test.yaml`, an error when there is none); a directory is every fixture under it
 * (recursively, sorted). No argument: `./triggers`.
 */
export function discoverFixtures(paths: string[]): { files: string[]; errors: FixtureError[] } {
  const files: string[] = [];
  const errors: FixtureError[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (isFixtureFile(entry.name)) files.push(p);
    }
  };
  for (const path of paths.length ? paths : ['triggers']) {
    if (!existsSync(path)) {
      errors.push({ file: path, path: '', message: 'no such file or directory' });
      continue;
    }
    if (statSync(path).isDirectory()) {
      const before = files.length;
      walk(path);
      if (files.length === before) errors.push({ file: path, path: '', message: `no fixture files (*${FIXTURE_SUFFIXES[0]}) under it` });
    } else if (isFixtureFile(path)) files.push(path);
    else {
      const suffix = TRIGGER_SUFFIXES.find((s) => path.endsWith(s));
      const base = suffix ? path.slice(0, -suffix.length) : path;
      const fixture = FIXTURE_SUFFIXES.map((s) => base + s).find(existsSync);
      if (fixture) files.push(fixture);
      else errors.push({ file: path, path: '', message: `no fixture beside it (expected ${base}${FIXTURE_SUFFIXES[0]})` });
    }
  }
  return { files: [...new Set(files)], errors };
}

// ── the parsed form ────────────────────────────────────────────────────────────────────────────────────────────

export type TextMatch = { equals?: string; contains: string[] };

/** One expected outcome: every field given must match (times in ms). */
export interface OutcomeMatcher {
  /** Where in the fixture it was written (`expect.sends[1]`). */
  path: string;
  trigger?: string;
  channel?: string;
  step?: string;
  at?: number;
  reason?: string;
  subject?: TextMatch;
  body?: TextMatch;
  title?: TextMatch;
  owner?: string;
  priority?: string;
  due?: number;
  closed?: boolean;
  resolution?: TextMatch;
  team?: string;
  to?: string;
  tags?: string[];
}

export const CATEGORIES = ['sends', 'suppressed', 'tasks', 'exits', 'replies', 'handoffs', 'stages', 'tags'] as const;
export type Category = (typeof CATEGORIES)[number];

export interface Expectations {
  lists: Partial<Record<Category, OutcomeMatcher[]>>;
  /** No message reaches the customer: no send and no automated reply. */
  nothing?: boolean;
  /** Categories where the listed outcomes must appear (in order) among possibly more. */
  atLeast: ReadonlySet<Category>;
}

export interface FixtureCase {
  name: string;
  index: number;
  customerId: string;
  /** The case's clock: `now`, else the first given event's time (ms). Relative times count from it. */
  start: number;
  /** Timers fire up to here (ms, inclusive). */
  until: number;
  /** Context folded before the case (the `customer` block's traits and stage): never decided on. */
  prior: JourneyEvent[];
  /** The given events in arrival order. */
  inputs: JourneyEvent[];
  expect: Expectations;
}

export interface Fixture {
  file: string;
  triggers: Array<{ file: string; definition: TriggerDefinition }>;
  cases: FixtureCase[];
}

export type FixtureLoad = { ok: true; fixture: Fixture } | { ok: false; errors: FixtureError[] };

// ── validation ─────────────────────────────────────────────────────────────────────────────────────────────────

type Path = Array<string | number>;
const showPath = (path: Path) => path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : p), '');

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const DEFAULT_UNTIL_MS = 30 * 86_400_000;

/** The case keys, the given event keys, the matcher keys per category (unknown keys are refused: a typo is an error). */
const CASE_KEYS = ['name', 'customer', 'now', 'until', 'given', 'expect'];
const GIVEN_KINDS = ['track', 'identify', 'traits', 'stage', 'reply'] as const;
const GIVEN_KEYS: Record<(typeof GIVEN_KINDS)[number], string[]> = {
  track: ['properties', 'context'],
  identify: ['context'],
  traits: [],
  stage: ['from'],
  reply: ['sentiment', 'conversation', 'channel'],
};
const MATCHER_KEYS: Record<Category, string[]> = {
  sends: ['trigger', 'channel', 'step', 'at', 'subject', 'body', 'to'],
  suppressed: ['trigger', 'channel', 'step', 'at', 'reason'],
  tasks: ['trigger', 'step', 'at', 'title', 'owner', 'priority', 'due', 'closed', 'resolution'],
  exits: ['trigger', 'at', 'reason'],
  replies: ['trigger', 'step', 'at', 'body'],
  handoffs: ['trigger', 'step', 'at', 'team', 'priority'],
  stages: ['trigger', 'step', 'at', 'to'],
  tags: ['trigger', 'step', 'at', 'tags'],
};

class FixtureValidator {
  readonly errors: FixtureError[] = [];
  caseName?: string;

  constructor(
    private readonly file: string,
    private readonly lineOf: (path: Path) => number | undefined,
  ) {}

  error(path: Path, message: string): undefined {
    this.errors.push({ file: this.file, line: this.lineOf(path), caseName: this.caseName, path: showPath(path), message });
    return undefined;
  }

  keys(value: Record<string, unknown>, allowed: string[], path: Path): void {
    for (const k of Object.keys(value))
      if (!allowed.includes(k)) this.error([...path, k], `unknown key (expected one of: ${allowed.join(', ')})`);
  }

  string(value: unknown, path: Path): string | undefined {
    if (typeof value === 'string' && value.trim()) return value;
    return this.error(path, `expected a non-empty string, got ${JSON.stringify(value)}`);
  }

  object(value: unknown, path: Path): Record<string, unknown> | undefined {
    if (isObject(value)) return value;
    return this.error(path, `expected an object, got ${JSON.stringify(value)}`);
  }

  /** An RFC 3339 date-time (`2026-03-01T09:00:00Z`) or, when `base` is known, an offset from it (`+2d`, `+90m`). */
  time(value: unknown, path: Path, base: number | undefined, baseName: string): number | undefined {
    if (typeof value === 'string' && value.trim().startsWith('+')) {
      const d = parseDuration(value.trim().slice(1));
      if (!d || d.tooLong) return this.error(path, `"${value}" is no offset (expected +30m, +12h, +3d, +2w; at most +3650d)`);
      if (base === undefined) return this.error(path, `"${value}" is relative, but the case has no ${baseName} to count from`);
      return base + d.ms;
    }
    if (typeof value === 'string' && RFC3339.test(value.trim()) && !Number.isNaN(Date.parse(value))) return Date.parse(value);
    return this.error(
      path,
      `expected a date-time with a time zone (2026-03-01T09:00:00Z) or an offset (+2d), got ${JSON.stringify(value)}`,
    );
  }

  text(value: unknown, path: Path): TextMatch | undefined {
    if (typeof value === 'string') return { equals: value, contains: [] };
    if (isObject(value)) {
      this.keys(value, ['equals', 'contains'], path);
      const contains = value.contains === undefined ? [] : Array.isArray(value.contains) ? value.contains : [value.contains];
      if (contains.some((c) => typeof c !== 'string' || c === ''))
        return this.error([...path, 'contains'], 'expected a non-empty string or a list of them');
      if (value.equals !== undefined && typeof value.equals !== 'string') return this.error([...path, 'equals'], 'expected a string');
      if (value.equals === undefined && contains.length === 0) return this.error(path, 'expected `equals` or `contains`');
      return { ...(value.equals !== undefined ? { equals: value.equals as string } : {}), contains: contains as string[] };
    }
    return this.error(path, `expected the exact text, or { contains: ... } / { equals: ... }, got ${JSON.stringify(value)}`);
  }
}

/** A step named by its address (`1.onTimeout.0`, as events carry it) or its document path (`steps[1].wait.onTimeout[0]`). */
export function stepAddress(text: string): string {
  const t = text.trim();
  if (!t.startsWith('steps')) return t;
  return t
    .replace(/^steps\[(\d+)\]/, '$1')
    .replace(/\.wait\.(onEvent|onTimeout)\[(\d+)\]/g, '.$1.$2')
    .replace(/\.branch\.(then|else)\[(\d+)\]/g, '.$1.$2')
    .replace(/\.split\.variants\[(\d+)\]\.steps\[(\d+)\]/g, '.variants.$1.$2');
}

/** Every step address of a definition (as the compiler flattens them). */
function stepAddresses(steps: unknown[], prefix = '', out = new Set<string>()): Set<string> {
  steps.forEach((step, i) => {
    const here = `${prefix}${i}`;
    out.add(here);
    const s = step as Record<string, Record<string, unknown>>;
    if (s.wait) for (const k of ['onEvent', 'onTimeout']) stepAddresses((s.wait[k] as unknown[]) ?? [], `${here}.${k}.`, out);
    if (s.branch) for (const k of ['then', 'else']) stepAddresses((s.branch[k] as unknown[]) ?? [], `${here}.${k}.`, out);
    if (s.split)
      ((s.split.variants as Array<{ steps: unknown[] }>) ?? []).forEach((v, j) =>
        stepAddresses(v.steps ?? [], `${here}.variants.${j}.`, out),
      );
  });
  return out;
}

/** Reads and validates a fixture file, with the triggers it tests (validated as deploying does). */
export function loadFixture(file: string): FixtureLoad {
  if (!existsSync(file)) return { ok: false, errors: [{ file, path: '', message: 'no such file' }] };
  const text = readFileSync(file, 'utf8');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  if (doc.errors.length)
    return {
      ok: false,
      // the first one: the others mostly follow from it
      errors: doc.errors.slice(0, 1).map((e) => ({
        file,
        line: e.linePos?.[0].line,
        path: '',
        message: `not valid YAML/JSON: ${e.message.split('\n')[0]}`,
      })),
    };
  const lineOf = (path: Path): number | undefined => {
    for (let p = path; ; p = p.slice(0, -1)) {
      const node = doc.getIn(p, true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return lineCounter.linePos(node.range[0]).line;
      if (p.length === 0) return undefined;
    }
  };
  const v = new FixtureValidator(file, lineOf);
  const root = v.object(doc.toJS(), []);
  if (!root) return { ok: false, errors: v.errors };
  v.keys(root, ['description', 'triggers', 'cases'], []);

  // the triggers under test: `triggers` (paths relative to the fixture), else the trigger beside it
  const triggers: Fixture['triggers'] = [];
  const suffix = FIXTURE_SUFFIXES.find((s) => file.endsWith(s));
  const named = root.triggers === undefined ? undefined : Array.isArray(root.triggers) ? root.triggers : [root.triggers];
  const candidates: Array<{ path: Path; files: string[] }> = named
    ? named.map((t, i) => ({
        path: Array.isArray(root.triggers) ? ['triggers', i] : ['triggers'],
        files: typeof t === 'string' ? [resolve(dirname(file), t)] : [],
      }))
    : [
        {
          path: [],
          files: suffix ? TRIGGER_SUFFIXES.map((s) => file.slice(0, -suffix.length) + s) : [],
        },
      ];
  if (named && named.length === 0) v.error(['triggers'], 'expected at least one trigger file');
  for (const c of candidates) {
    const found = c.files.find(existsSync);
    if (!found) {
      v.error(
        c.path,
        named
          ? `expected a trigger file path (relative to ${basename(file)}), ${c.files.length ? `no such file: ${c.files[0]}` : 'got no string'}`
          : `no trigger beside ${basename(file)} (expected ${c.files[0] ?? 'a <name>.test.yaml file name'}); name it with \`triggers:\``,
      );
      continue;
    }
    const parsed = parseTrigger(readFileSync(found, 'utf8'), TRIGGER_VALIDATION);
    if (!parsed.ok) {
      for (const e of parsed.errors) v.error(c.path, `${found} is not a valid trigger: ${formatValidationError(e)}`);
      continue;
    }
    if (triggers.some((t) => t.definition.id === parsed.definition.id)) v.error(c.path, `trigger "${parsed.definition.id}" is named twice`);
    else triggers.push({ file: found, definition: parsed.definition });
  }

  const ids = new Set(triggers.map((t) => t.definition.id));
  const steps = new Map(triggers.map((t) => [t.definition.id, stepAddresses(t.definition.steps as unknown[])]));
  const cases: FixtureCase[] = [];
  if (!Array.isArray(root.cases) || root.cases.length === 0) v.error(['cases'], 'expected a non-empty list of cases');
  else {
    const names = new Set<string>();
    root.cases.forEach((raw, i) => {
      v.caseName = isObject(raw) && typeof raw.name === 'string' ? raw.name : undefined;
      const c = parseCase(v, raw, ['cases', i], i, { ids, steps });
      if (c && names.has(c.name)) v.error(['cases', i, 'name'], `another case is named "${c.name}"`);
      if (c) names.add(c.name);
      if (c) cases.push(c);
      v.caseName = undefined;
    });
  }
  if (v.errors.length) return { ok: false, errors: v.errors };
  return { ok: true, fixture: { file, triggers, cases } };
}

interface Known {
  ids: Set<string>;
  steps: Map<string, Set<string>>;
}

function parseCase(v: FixtureValidator, raw: unknown, path: Path, index: number, known: Known): FixtureCase | undefined {
  const c = v.object(raw, path);
  if (!c) return undefined;
  v.keys(c, CASE_KEYS, path);
  const errorsBefore = v.errors.length;
  const name = v.string(c.name, [...path, 'name']) ?? `#${index + 1}`;

  const customer = c.customer === undefined ? {} : (v.object(c.customer, [...path, 'customer']) ?? {});
  v.keys(customer, ['id', 'traits', 'stage'], [...path, 'customer']);
  const customerId = customer.id === undefined ? `customer-${index + 1}` : (v.string(customer.id, [...path, 'customer', 'id']) ?? '');

  // the clock: `now`, else the first given event's (absolute) time
  const givenRaw = Array.isArray(c.given) ? c.given : undefined;
  if (!givenRaw || givenRaw.length === 0) v.error([...path, 'given'], 'expected a non-empty list of events');
  let start = c.now === undefined ? undefined : v.time(c.now, [...path, 'now'], undefined, '`now`');
  if (start === undefined && c.now === undefined && givenRaw && isObject(givenRaw[0])) {
    const first = givenRaw[0].at;
    if (typeof first === 'string' && RFC3339.test(first.trim()) && !Number.isNaN(Date.parse(first))) start = Date.parse(first);
  }

  const history = new FixtureHistory(customerId, 'default');
  // context before the case: folded into the view, never decided on
  const prior: JourneyEvent[] = [];
  const priorTraits = customer.traits === undefined ? undefined : v.object(customer.traits, [...path, 'customer', 'traits']);
  const priorStage = customer.stage === undefined ? undefined : stageOf(v, customer.stage, [...path, 'customer', 'stage']);
  if (start !== undefined) {
    const at = new Date(start - 1).toISOString();
    if (priorTraits) prior.push(history.add('TraitsUpdated', { traits: priorTraits }, at, at));
    if (priorStage) prior.push(history.add('StageChanged', { from: null, to: priorStage, reason: 'fixture' }, at, at));
    history.stage = priorStage ?? null;
  }

  const inputs: JourneyEvent[] = [];
  let at = start;
  let arrived = -Infinity;
  let last = start;
  (givenRaw ?? []).forEach((rawItem, j) => {
    const p = [...path, 'given', j];
    const item = v.object(rawItem, p);
    if (!item) return;
    const kinds = GIVEN_KINDS.filter((k) => k in item);
    if (kinds.length !== 1) {
      v.error(p, `expected exactly one of ${GIVEN_KINDS.join(', ')}${kinds.length ? ` (got ${kinds.join(' and ')})` : ''}`);
      return;
    }
    const kind = kinds[0];
    v.keys(item, ['at', 'arrivedAt', kind, ...GIVEN_KEYS[kind]], p);
    if (item.at !== undefined) at = v.time(item.at, [...p, 'at'], start, '`now` (nor a first event at an absolute time)');
    else if (at === undefined)
      v.error([...p, 'at'], 'needs a time: the first event an absolute `at` (2026-03-01T09:00:00Z), or the case a `now`');
    if (at === undefined) return;
    const arrivedAt = item.arrivedAt === undefined ? at : v.time(item.arrivedAt, [...p, 'arrivedAt'], start, '`now`');
    if (arrivedAt === undefined) return;
    if (arrivedAt < at) v.error([...p, 'arrivedAt'], 'an event cannot arrive before it happened');
    if (arrivedAt < arrived)
      v.error([...p, at === arrivedAt ? 'at' : 'arrivedAt'], 'arrives before the event above it: list the events in the order they arrive');
    arrived = Math.max(arrived, arrivedAt);
    last = Math.max(last ?? arrivedAt, arrivedAt);
    const iso = new Date(at).toISOString();
    const isoArrived = new Date(arrivedAt).toISOString();
    const context = () => {
      if (item.context === undefined) return {};
      const ctx = v.object(item.context, [...p, 'context']);
      return ctx ? { context: ctx } : {};
    };
    switch (kind) {
      case 'track': {
        const event = v.string(item.track, [...p, 'track']);
        const properties = item.properties === undefined ? {} : v.object(item.properties, [...p, 'properties']);
        if (event && properties) inputs.push(history.add('InteractionRecorded', { event, properties, ...context() }, iso, isoArrived));
        return;
      }
      case 'identify': {
        const traits = item.identify === null || item.identify === true ? {} : v.object(item.identify, [...p, 'identify']);
        if (traits) inputs.push(history.add('CustomerIdentified', { userId: customerId, traits, ...context() }, iso, isoArrived));
        return;
      }
      case 'traits': {
        const traits = v.object(item.traits, [...p, 'traits']);
        if (traits) inputs.push(history.add('TraitsUpdated', { traits }, iso, isoArrived));
        return;
      }
      case 'stage': {
        const to = stageOf(v, item.stage, [...p, 'stage']);
        const from = item.from === undefined ? history.stage : item.from === null ? null : stageOf(v, item.from, [...p, 'from']);
        if (to && from !== undefined) {
          inputs.push(history.add('StageChanged', { from, to, reason: 'fixture' }, iso, isoArrived));
          history.stage = to;
        }
        return;
      }
      case 'reply': {
        const body = v.string(item.reply, [...p, 'reply']);
        const conversationId = item.conversation === undefined ? 'conversation-1' : v.string(item.conversation, [...p, 'conversation']);
        const channel = item.channel === undefined ? 'inbox' : item.channel;
        if (!(CONVERSATION_CHANNELS as readonly unknown[]).includes(channel))
          v.error([...p, 'channel'], `expected one of ${CONVERSATION_CHANNELS.join(', ')}, got ${JSON.stringify(channel)}`);
        const sentiment = item.sentiment;
        if (sentiment !== undefined && !(typeof sentiment === 'number' && sentiment >= -1 && sentiment <= 1))
          v.error([...p, 'sentiment'], `expected a VADER score in [-1, 1], got ${JSON.stringify(sentiment)}`);
        if (body && conversationId)
          inputs.push(
            ...history.reply(
              iso,
              isoArrived,
              body,
              conversationId,
              channel as EventDataByType['CustomerReplied']['channel'],
              sentiment as number,
            ),
          );
        return;
      }
    }
  });

  const until =
    c.until === undefined
      ? last === undefined
        ? undefined
        : last + DEFAULT_UNTIL_MS
      : v.time(c.until, [...path, 'until'], start, '`now`');
  if (until !== undefined && last !== undefined && until < last) v.error([...path, 'until'], 'is before the last given event arrives');

  const expect = parseExpect(v, c.expect, [...path, 'expect'], start, known);
  if (v.errors.length > errorsBefore || start === undefined || until === undefined || !expect) return undefined;
  return { name, index, customerId, start, until, prior, inputs, expect };
}

function stageOf(v: FixtureValidator, value: unknown, path: Path): Stage | undefined {
  if ((STAGES as readonly unknown[]).includes(value)) return value as Stage;
  return v.error(path, `expected a stage (${STAGES.join(', ')}), got ${JSON.stringify(value)}`);
}

function parseExpect(v: FixtureValidator, raw: unknown, path: Path, start: number | undefined, known: Known): Expectations | undefined {
  const e = v.object(raw, path);
  if (!e) return undefined;
  v.keys(e, [...CATEGORIES, 'nothing', 'atLeast'], path);
  const lists: Expectations['lists'] = {};
  for (const category of CATEGORIES) {
    if (e[category] === undefined) continue;
    const items = e[category];
    if (!Array.isArray(items)) {
      v.error([...path, category], `expected a list (an empty list: exactly none)`);
      continue;
    }
    lists[category] = items.flatMap((item, i) => {
      const m = parseMatcher(v, category, item, [...path, category, i], start, known);
      return m ? [m] : [];
    });
  }
  let atLeast = new Set<Category>();
  if (e.atLeast === true) atLeast = new Set(CATEGORIES);
  else if (Array.isArray(e.atLeast)) {
    e.atLeast.forEach((c, i) => {
      if ((CATEGORIES as readonly unknown[]).includes(c)) atLeast.add(c as Category);
      else v.error([...path, 'atLeast', i], `expected one of ${CATEGORIES.join(', ')}, got ${JSON.stringify(c)}`);
    });
  } else if (e.atLeast !== undefined && e.atLeast !== false)
    v.error([...path, 'atLeast'], 'expected true (every list) or a list of categories (sends, tasks, ...)');
  if (e.nothing !== undefined && typeof e.nothing !== 'boolean') v.error([...path, 'nothing'], 'expected true or false');
  if (e.nothing === true && ((lists.sends?.length ?? 0) > 0 || (lists.replies?.length ?? 0) > 0))
    v.error([...path, 'nothing'], 'contradicts the sends or replies listed beside it');
  if (Object.keys(lists).length === 0 && e.nothing === undefined)
    v.error(path, `expects nothing to be checked: give at least one of ${CATEGORIES.join(', ')} or nothing`);
  return { lists, ...(e.nothing === true ? { nothing: true } : {}), atLeast };
}

function parseMatcher(
  v: FixtureValidator,
  category: Category,
  raw: unknown,
  path: Path,
  start: number | undefined,
  known: Known,
): OutcomeMatcher | undefined {
  const item = v.object(raw, path);
  if (!item) return undefined;
  const before = v.errors.length;
  v.keys(item, MATCHER_KEYS[category], path);
  const m: OutcomeMatcher = { path: showPath(path.slice(path.indexOf('expect'))) };
  const str = (k: 'trigger' | 'channel' | 'reason' | 'owner' | 'priority' | 'team' | 'to') => {
    if (item[k] !== undefined) m[k] = v.string(item[k], [...path, k]);
  };
  for (const k of ['trigger', 'channel', 'reason', 'owner', 'priority', 'team', 'to'] as const) str(k);
  if (category === 'stages' && item.to !== undefined) stageOf(v, item.to, [...path, 'to']);
  if (m.trigger !== undefined && !known.ids.has(m.trigger))
    v.error([...path, 'trigger'], `"${m.trigger}" is not one of the triggers under test (${[...known.ids].join(', ')})`);
  if (item.step !== undefined) {
    const s = typeof item.step === 'number' && Number.isInteger(item.step) ? String(item.step) : v.string(item.step, [...path, 'step']);
    if (s !== undefined) {
      m.step = stepAddress(s);
      const scope = m.trigger !== undefined ? [m.trigger] : [...known.ids];
      if (!scope.some((id) => known.steps.get(id)?.has(m.step!)))
        v.error(
          [...path, 'step'],
          `"${s}" is no step of ${scope.join(' or ')} (steps are named 0, 1.onTimeout.0, or steps[1].wait.onTimeout[0])`,
        );
    }
  }
  if (item.at !== undefined) m.at = v.time(item.at, [...path, 'at'], start, '`now`');
  if (item.due !== undefined) m.due = v.time(item.due, [...path, 'due'], start, '`now`');
  for (const k of ['subject', 'body', 'title', 'resolution'] as const) if (item[k] !== undefined) m[k] = v.text(item[k], [...path, k]);
  if (item.closed !== undefined) {
    if (typeof item.closed !== 'boolean') v.error([...path, 'closed'], 'expected true or false');
    else m.closed = item.closed;
  }
  if (item.tags !== undefined) {
    if (!Array.isArray(item.tags) || item.tags.some((t) => typeof t !== 'string')) v.error([...path, 'tags'], 'expected a list of tags');
    else m.tags = item.tags as string[];
  }
  return v.errors.length > before ? undefined : m;
}

/** Builds the given events as the engine stores them (the ids deterministic, so reruns decide the same). */
class FixtureHistory {
  private n = 0;
  stage: Stage | null = null;
  private readonly conversations = new Set<string>();

  constructor(
    private readonly customerId: string,
    private readonly workspaceId: string,
  ) {}

  add<T extends EventType>(type: T, data: EventDataByType[T], at: string, arrivedAt: string): JourneyEvent {
    return envelope({
      id: deterministicId('fixture', this.workspaceId, this.customerId, this.n++),
      type,
      data: data as unknown as Record<string, unknown>,
      workspaceId: this.workspaceId,
      customerId: this.customerId,
      occurredAt: at,
      recordedAt: arrivedAt,
      source: 'http',
    });
  }

  reply(
    at: string,
    arrivedAt: string,
    body: string,
    conversationId: string,
    channel: EventDataByType['CustomerReplied']['channel'],
    sentiment?: number,
  ): JourneyEvent[] {
    const out: JourneyEvent[] = [];
    if (!this.conversations.has(conversationId)) {
      this.conversations.add(conversationId);
      out.push(this.add('ConversationStarted', { conversationId, channel }, at, arrivedAt));
    }
    out.push(
      this.add(
        'CustomerReplied',
        { conversationId, messageId: `fixture-message-${this.n}`, channel, body, ...(sentiment !== undefined ? { sentiment } : {}) },
        at,
        arrivedAt,
      ),
    );
    return out;
  }
}
