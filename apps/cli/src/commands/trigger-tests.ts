/**
 * `journey triggers test`: runs trigger test fixtures (trigger-fixtures.ts) through `CustomerSimulation`, the
 * reactor's own decisions with simulated time (timers fire at their due time), renders every send as the dispatcher
 * would (the messaging lib's strict Liquid, with the traits the customer has when it goes out), and compares what was
 * decided with what each case expects.
 */
import {
  CustomerSimulation,
  deterministicId,
  enabledProgram,
  occurredTime,
  templateEventProperties,
  TRIGGER_SOURCE,
  typed,
  type JourneyEvent,
  type Traits,
} from '@journey/domain';
import { TemplateError, TemplateRenderer, replyRenderer } from '@journey/messaging';
import {
  CATEGORIES,
  discoverFixtures,
  formatFixtureError,
  loadFixture,
  type Category,
  type Fixture,
  type FixtureCase,
  type FixtureError,
  type OutcomeMatcher,
  type TextMatch,
} from './trigger-fixtures';

/** One thing the triggers decided, as a case's expectations see it (times in ms). */
export interface Outcome {
  category: Category;
  at: number;
  trigger?: string;
  channel?: string;
  step?: string;
  reason?: string;
  subject?: string;
  body?: string;
  title?: string;
  owner?: string;
  priority?: string;
  due?: number;
  closed?: boolean;
  resolution?: string;
  team?: string;
  to?: string;
  tags?: string[];
  /** How it is shown in a report. */
  line: string;
}

export interface CaseResult {
  file: string;
  name: string;
  ok: boolean;
  /** What did not match, one line each. */
  problems: string[];
  /** Every event the simulation added to the customer's stream (decisions and fired timers), one line each. */
  decided: string[];
  outcomes: Outcome[];
}

export interface TestRun {
  results: CaseResult[];
  errors: FixtureError[];
  passed: number;
  failed: number;
}

const iso = (ms: number) => new Date(ms).toISOString();
const quote = (s: string | undefined, max = 80) => (s === undefined ? '' : JSON.stringify(s.length > max ? `${s.slice(0, max - 1)}…` : s));

/** Runs the fixtures of these paths (files, trigger files, directories; none: ./triggers). */
export function runTriggerTests(paths: string[]): TestRun {
  const found = discoverFixtures(paths);
  const errors = [...found.errors];
  const results: CaseResult[] = [];
  const renderer = new TemplateRenderer();
  for (const file of found.files) {
    const load = loadFixture(file);
    if (!load.ok) {
      errors.push(...load.errors);
      continue;
    }
    for (const c of load.fixture.cases) results.push(runCase(load.fixture, c, renderer));
  }
  const passed = results.filter((r) => r.ok).length;
  return { results, errors, passed, failed: results.length - passed };
}

export function runCase(fixture: Fixture, c: FixtureCase, renderer = new TemplateRenderer()): CaseResult {
  const programs = fixture.triggers.map((t) => enabledProgram(t.definition, 'default'));
  const stream: JourneyEvent[] = [];
  const given = new Set(c.inputs.map((e) => e.id));
  const seen = new Set<string>();
  const sim = new CustomerSimulation(
    programs,
    (input, effects) => {
      // an effect that is an input too (a stage change, a task) is decided on in its turn: it is in the stream already
      for (const e of [input, ...effects])
        if (!seen.has(e.id)) {
          seen.add(e.id);
          stream.push(e);
        }
    },
    deterministicId,
    { keepHistory: true, renderReply: replyRenderer(renderer) },
  );
  for (const e of c.prior) {
    sim.prior(e);
    stream.push(e);
  }
  for (const e of c.inputs) sim.input(e);
  sim.fireDue(c.until + 1);
  const outcomes = outcomesOf(stream, renderer);
  const problems = compare(c, outcomes);
  const decided = stream.filter((e) => !given.has(e.id) && !c.prior.includes(e)).map(describeEvent);
  return { file: fixture.file, name: c.name, ok: problems.length === 0, problems, decided, outcomes };
}

// ── what was decided ───────────────────────────────────────────────────────────────────────────────────────────

/** Sends, suppressions, tasks, exits, replies, handoffs, stage changes and tags in the simulated stream, in order. */
export function outcomesOf(stream: JourneyEvent[], renderer: TemplateRenderer): Outcome[] {
  const out: Outcome[] = [];
  const suppressedLater = new Set(
    stream.flatMap((e) => (e.type === 'MessageSuppressed' ? [(e.data as { messageId: string }).messageId] : [])),
  );
  const closed = new Map<string, string>();
  for (const e of stream) if (e.type === 'CsmTaskClosed') closed.set(String(e.data.taskId), String(e.data.resolution));
  stream.forEach((event, index) => {
    const e = typed(event);
    if (e.metadata.source !== TRIGGER_SOURCE) return;
    const at = occurredTime(e);
    switch (e.type) {
      case 'MessageScheduled': {
        if (e.data.test || suppressedLater.has(e.data.messageId)) return; // a late event suppressed it before it went out
        const sendAt = e.data.notBefore ? Date.parse(e.data.notBefore) : at;
        const base = { at: sendAt, trigger: e.data.triggerId, channel: e.data.channel, step: e.data.step, to: e.data.to };
        const where = `${iso(sendAt)} ${e.data.channel} ${e.data.triggerId} step ${e.data.step}`;
        if (e.data.request) {
          out.push({
            category: 'sends',
            ...base,
            body: e.data.template.body,
            line: `${where}: ${e.data.request.method} ${e.data.request.url}`,
          });
          return;
        }
        const rendered = render(stream, index, sendAt, renderer);
        if ('error' in rendered) {
          out.push({
            category: 'suppressed',
            ...base,
            reason: 'template-error',
            line: `${where}: suppressed (template-error: ${rendered.error})`,
          });
          return;
        }
        const text = rendered.subject !== undefined ? `${quote(rendered.subject)} ${quote(rendered.body, 60)}` : quote(rendered.body);
        out.push({ category: 'sends', ...base, subject: rendered.subject, body: rendered.body, line: `${where}: ${text}` });
        return;
      }
      case 'MessageSuppressed':
        out.push({
          category: 'suppressed',
          at,
          trigger: e.data.triggerId,
          channel: e.data.channel,
          step: e.data.step,
          reason: e.data.reason,
          line: `${iso(at)} ${e.data.channel} ${e.data.triggerId} step ${e.data.step}: suppressed (${e.data.reason}${e.data.detail ? `: ${e.data.detail}` : ''})`,
        });
        return;
      case 'CsmTaskOpened': {
        const resolution = closed.get(e.data.taskId);
        out.push({
          category: 'tasks',
          at,
          trigger: e.data.triggerId,
          step: e.data.step,
          title: e.data.title,
          owner: e.data.owner,
          priority: e.data.priority,
          due: e.data.dueAt ? Date.parse(e.data.dueAt) : undefined,
          closed: resolution !== undefined,
          resolution,
          line: `${iso(at)} task ${quote(e.data.title)} (${e.data.priority}${e.data.owner ? `, ${e.data.owner}` : ''}${e.data.dueAt ? `, due ${e.data.dueAt}` : ''})${resolution ? `, closed: ${resolution}` : ', open'}`,
        });
        return;
      }
      case 'TriggerRunExited':
        out.push({
          category: 'exits',
          at,
          trigger: e.data.triggerId,
          reason: e.data.reason,
          line: `${iso(at)} ${e.data.triggerId} exited: ${e.data.reason}`,
        });
        return;
      case 'AgentReplied':
        out.push({
          category: 'replies',
          at,
          trigger: e.data.triggerId,
          step: stepOf(e.id, stream),
          body: e.data.body,
          line: `${iso(at)} reply in ${e.data.conversationId} by ${e.data.triggerId}: ${quote(e.data.body)}`,
        });
        return;
      case 'ConversationAssigned':
        out.push({
          category: 'handoffs',
          at,
          trigger: e.data.triggerId,
          team: e.data.team,
          priority: e.data.priority,
          line: `${iso(at)} ${e.data.conversationId} handed to ${e.data.team ?? e.data.assignee} (${e.data.priority}) by ${e.data.triggerId}`,
        });
        return;
      case 'StageChanged':
        out.push({
          category: 'stages',
          at,
          to: e.data.to,
          line: `${iso(at)} stage ${e.data.from ?? 'none'} -> ${e.data.to} (${e.data.reason})`,
        });
        return;
      case 'ConversationTagged':
        out.push({ category: 'tags', at, tags: e.data.tags, line: `${iso(at)} ${e.data.conversationId} tagged ${e.data.tags.join(', ')}` });
        return;
      default:
        return;
    }
  });
  return out;
}

/** The step a conversation step's event was decided at: the TriggerRunStepEntered just before it in the stream. */
function stepOf(id: string, stream: JourneyEvent[]): string | undefined {
  for (let i = stream.findIndex((e) => e.id === id); i >= 0; i--)
    if (stream[i].type === 'TriggerRunStepEntered') return String(stream[i].data.step);
  return undefined;
}

/**
 * A message as the dispatcher renders it when it goes out (at `sendAt`): the traits of the customer's stream up to
 * the message and what arrived before it is sent, the causing event's properties; strict Liquid (a missing variable
 * is an error: the dispatcher suppresses the message with reason `template-error`).
 */
function render(
  stream: JourneyEvent[],
  index: number,
  sendAt: number,
  renderer: TemplateRenderer,
): { subject?: string; body: string } | { error: string } {
  const scheduled = typed(stream[index]);
  if (scheduled.type !== 'MessageScheduled') throw new Error('not a MessageScheduled');
  let traits: Traits = {};
  stream.forEach((e, i) => {
    if (i > index && Date.parse(e.metadata.recordedAt) > sendAt) return;
    if (e.type === 'CustomerIdentified' || e.type === 'TraitsUpdated') traits = { ...traits, ...(e.data as { traits: Traits }).traits };
  });
  const cause = stream.find((e) => e.id === scheduled.data.causingEventId);
  try {
    return renderer.renderSync(scheduled.data.template, {
      customer: { id: scheduled.metadata.customerId, traits },
      event: templateEventProperties(cause),
    });
  } catch (error) {
    if (error instanceof TemplateError) return { error: error.message };
    throw error;
  }
}

// ── comparing ──────────────────────────────────────────────────────────────────────────────────────────────────

const SINGULAR: Record<Category, string> = {
  sends: 'send',
  suppressed: 'suppression',
  tasks: 'task',
  exits: 'exit',
  replies: 'reply',
  handoffs: 'handoff',
  stages: 'stage change',
  tags: 'tagging',
};

function textMismatch(name: string, want: TextMatch, got: string | undefined): string[] {
  const out: string[] = [];
  if (want.equals !== undefined && want.equals !== got)
    out.push(`${name}: expected ${quote(want.equals)}, got ${got === undefined ? 'none' : quote(got)}`);
  for (const c of want.contains)
    if (!(got ?? '').includes(c)) out.push(`${name}: expected to contain ${quote(c)}, got ${got === undefined ? 'none' : quote(got)}`);
  return out;
}

/** Why `o` is not what `m` expects (empty: it matches). */
export function mismatches(m: OutcomeMatcher, o: Outcome): string[] {
  const out: string[] = [];
  const eq = (k: 'trigger' | 'channel' | 'step' | 'reason' | 'owner' | 'priority' | 'team' | 'to') => {
    if (m[k] !== undefined && m[k] !== o[k]) out.push(`${k}: expected ${m[k]}, got ${o[k] ?? 'none'}`);
  };
  for (const k of ['trigger', 'channel', 'step', 'reason', 'owner', 'priority', 'team', 'to'] as const) eq(k);
  if (m.at !== undefined && m.at !== o.at) out.push(`at: expected ${iso(m.at)}, got ${iso(o.at)}`);
  if (m.due !== undefined && m.due !== o.due) out.push(`due: expected ${iso(m.due)}, got ${o.due === undefined ? 'none' : iso(o.due)}`);
  for (const k of ['subject', 'body', 'title', 'resolution'] as const) if (m[k]) out.push(...textMismatch(k, m[k], o[k]));
  if (m.closed !== undefined && m.closed !== o.closed) out.push(`closed: expected ${m.closed}, got ${o.closed}`);
  if (m.tags && JSON.stringify([...m.tags].sort()) !== JSON.stringify([...(o.tags ?? [])].sort()))
    out.push(`tags: expected ${m.tags.join(', ')}, got ${(o.tags ?? []).join(', ')}`);
  return out;
}

function describeMatcher(m: OutcomeMatcher): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(m)) {
    if (k === 'path' || v === undefined) continue;
    if (k === 'at' || k === 'due') parts.push(`${k} ${iso(v as number)}`);
    else if (typeof v === 'object' && v !== null && 'contains' in v) {
      const t = v as TextMatch;
      parts.push(
        `${k} ${t.equals !== undefined ? quote(t.equals, 40) : `containing ${t.contains.map((c) => quote(c, 40)).join(' and ')}`}`,
      );
    } else parts.push(`${k} ${Array.isArray(v) ? v.join(',') : String(v)}`);
  }
  return parts.join(', ') || 'any';
}

/**
 * Each category's expected outcomes must be found in the decided ones, in order; without `atLeast`, nothing else
 * may be there (exact counts). An expected one that is not found is shown with the closest decided one and how it
 * differs.
 */
export function compare(c: FixtureCase, outcomes: Outcome[]): string[] {
  const problems: string[] = [];
  const { lists, atLeast } = c.expect;
  for (const category of CATEGORIES) {
    const expected = lists[category];
    if (!expected) continue;
    const got = outcomes.filter((o) => o.category === category);
    const used = new Set<number>();
    let from = 0;
    const missing: string[] = [];
    const shown = new Set<number>();
    for (const m of expected) {
      const i = got.findIndex((o, j) => j >= from && !used.has(j) && mismatches(m, o).length === 0);
      if (i >= 0) {
        used.add(i);
        from = i + 1;
        continue;
      }
      const candidates = got.map((o, j) => ({ o, j, diff: mismatches(m, o) })).filter((x) => !used.has(x.j));
      const closest = candidates.sort((a, b) => a.diff.length - b.diff.length)[0];
      const anyOrder = got.findIndex((o, j) => !used.has(j) && mismatches(m, o).length === 0) >= 0;
      if (closest && !anyOrder) shown.add(closest.j);
      missing.push(
        `${m.path} (${describeMatcher(m)}): ${
          anyOrder
            ? `found, but not in this order`
            : closest
              ? `no such ${SINGULAR[category]}; closest: ${closest.o.line} (${closest.diff.join('; ')})`
              : `no such ${SINGULAR[category]}: none was decided`
        }`,
      );
    }
    // decided ones nothing expected (those shown as the closest to an expected one are not repeated)
    const extra = atLeast.has(category) ? [] : got.filter((_, j) => !used.has(j) && !shown.has(j));
    if (missing.length || extra.length) {
      problems.push(
        `${category}: expected ${atLeast.has(category) ? 'at least ' : ''}${expected.length}, got ${got.length}`,
        ...missing.map((s) => `  ${s}`),
        ...extra.map((o) => `  unexpected ${SINGULAR[category]}: ${o.line}`),
      );
    }
  }
  if (c.expect.nothing) {
    const messages = outcomes.filter((o) => o.category === 'sends' || o.category === 'replies');
    if (messages.length)
      problems.push(`nothing: expected no message to the customer, got ${messages.length}`, ...messages.map((o) => `  ${o.line}`));
  }
  return problems;
}

// ── reporting ──────────────────────────────────────────────────────────────────────────────────────────────────

export function describeEvent(event: JourneyEvent): string {
  const e = typed(event);
  const d = e.data as Record<string, unknown>;
  const at = e.metadata.occurredAt;
  const summary = (() => {
    switch (e.type) {
      case 'TriggerMatched':
        return `${e.data.triggerId} v${e.data.version}`;
      case 'TriggerRunStepEntered':
        return `${e.data.triggerId} step ${e.data.step} (${e.data.kind}${e.data.variant ? `: ${e.data.variant}` : ''})`;
      case 'TriggerRunExited':
        return `${e.data.triggerId}: ${e.data.reason}`;
      case 'TimerScheduled':
        return `${e.data.purpose} due ${e.data.dueAt}`;
      case 'TimerFired':
        return e.data.purpose;
      case 'TimerCancelled':
        return e.data.reason;
      case 'MessageScheduled':
        return `${e.data.triggerId} ${e.data.channel} step ${e.data.step}${e.data.notBefore ? ` not before ${e.data.notBefore}` : ''}: ${quote(e.data.template.subject ?? e.data.template.body, 60)}`;
      case 'MessageSuppressed':
        return `${e.data.triggerId} ${e.data.channel} step ${e.data.step}: ${e.data.reason}`;
      case 'CsmTaskOpened':
        return `${quote(e.data.title)} (${e.data.priority})`;
      case 'CsmTaskClosed':
        return e.data.resolution;
      case 'StageChanged':
        return `${e.data.from ?? 'none'} -> ${e.data.to}`;
      default: {
        const text = JSON.stringify(d);
        return text.length > 100 ? `${text.slice(0, 99)}…` : text;
      }
    }
  })();
  return `${at} ${e.type} ${summary}`;
}

/** The report: one line per case (with what did not match and the decided events under a failing one), then the totals. */
export function formatTestRun(run: TestRun, options: { verbose?: boolean } = {}): { out: string[]; err: string[] } {
  const out: string[] = [];
  for (const r of run.results) {
    out.push(`${r.ok ? '✓' : '✗'} ${r.file} › ${r.name}`);
    for (const p of r.problems) out.push(`    ${p}`);
    if (!r.ok || options.verbose) {
      out.push(`    decided (${r.decided.length}):`);
      for (const line of r.decided) out.push(`      ${line}`);
    }
  }
  const err = run.errors.map(formatFixtureError);
  if (err.length) err.push(`${err.length} fixture error${err.length > 1 ? 's' : ''}: the cases of those files did not run`);
  out.push(`${run.passed} passed, ${run.failed} failed`);
  return { out, err };
}

/** 2 on a bad fixture (or path), else 1 on a failing case, else 0. */
export const exitCodeOf = (run: TestRun) => (run.errors.length ? 2 : run.failed ? 1 : 0);
