/** Compiles a trigger definition once: entry, exit rules and every step (flattened to addresses) become closures. */
import type { Stage, Traits, Properties } from '../events';
import {
  addHistoryNeeds,
  compileEntry,
  compileSignal,
  emptyHistoryNeeds,
  type ActivityRecord,
  type CompiledEntry,
  type HistoryNeeds,
  type Predicate,
} from './conditions';
import type { TriggerState } from './definition';
import { forEachStep, type Signal, type Step, type TaskPriority, type TriggerDefinition, type WebhookMethod } from './schema';
import { parseDuration } from './time';

/** Address of the end of a run. Step addresses: `0`, `1`, `2.then.0`, `3.variants.1.0`, `4.onTimeout.0`. */
export const END = 'end';

export type CompiledStep =
  | { kind: 'wait'; ms: number; next: string }
  | { kind: 'waitUntil'; until: Predicate; timeoutMs: number; onEvent: string; onTimeout: string }
  | { kind: 'branch'; test: Predicate; then: string; else: string }
  | { kind: 'split'; holdout: number; variants: Array<{ name: string; weight: number; first: string }> }
  | {
      kind: 'send';
      channel: string;
      body: string;
      subject?: string;
      to?: string;
      topic?: string;
      template?: { id: string; version: number };
      next: string;
    }
  | { kind: 'task'; title: string; owner?: string; priority: TaskPriority; dueMs?: number; closeOn?: Predicate; next: string }
  | { kind: 'set'; stage?: Stage; traits?: Traits; next: string }
  | { kind: 'emit'; event: string; properties: Properties; next: string }
  | { kind: 'exit'; reason: string }
  | { kind: 'reply'; body: string; next: string }
  | { kind: 'tag'; tags: string[]; next: string }
  | { kind: 'handoff'; team: string; priority: TaskPriority; next: string }
  | { kind: 'resolve'; next: string }
  | {
      kind: 'webhook';
      url: string;
      method: WebhookMethod;
      headers: Record<string, string>;
      body: string;
      next: string;
    };

export interface CompiledTrigger {
  id: string;
  version: number;
  definition: TriggerDefinition;
  priority: number;
  entry: CompiledEntry;
  reentry: { kind: 'once' } | { kind: 'every' } | { kind: 'oncePer'; ms: number };
  maxEventAgeMs: number;
  /** Keyed runs (`key: properties.cartId`): reads the run's key from an event. */
  key?: CompiledKey;
  first: string;
  steps: ReadonlyMap<string, CompiledStep>;
  exits: Array<{ when: Predicate; reason: string }>;
  caps: Array<{ max: number; perMs: number; per: string; scope: 'customer' | 'channel' | 'trigger' }>;
  /** Its own quiet hours (`none`: opted out); unset, the workspace default applies (see `checkGuards`). */
  quietHours?: { start: string; end: string } | 'none';
}

/**
 * A keyed trigger's key: `path` as written (`properties.cartId`), and `of`, the key of an event (its property at the
 * path, as conditions' `where` read properties: a track's properties, another event's data): a non-empty string (at
 * most `MAX_KEY_LENGTH` characters) or a finite number, as a string; undefined for anything else (the event has no key).
 */
export interface CompiledKey {
  path: string;
  of(record: ActivityRecord | undefined): string | undefined;
}

/** The prefix of a key path: keys are properties of the entry event. */
export const KEY_PREFIX = 'properties.';
/** A longer key value is no key (the event starts no keyed run). */
export const MAX_KEY_LENGTH = 256;

export function compileKey(path: string): CompiledKey {
  const parts = path.slice(KEY_PREFIX.length).split('.');
  return {
    path,
    of: (record) => {
      let v: unknown = record?.props;
      for (const p of parts) {
        if (typeof v !== 'object' || v === null) return undefined;
        v = (v as Record<string, unknown>)[p];
      }
      if (typeof v === 'string') return v !== '' && v.length <= MAX_KEY_LENGTH ? v : undefined;
      return typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
    },
  };
}

/** A trigger as the run decider sees it: whether it is enabled, its latest version and every older one. */
export interface TriggerProgram {
  id: string;
  enabled: boolean;
  latest: CompiledTrigger;
  version(v: number): CompiledTrigger | undefined;
  /** The version running in shadow (decides on every input in its own runs, never sends), enabled or not. */
  shadow?: CompiledTrigger;
  /**
   * What deciding for it reads from a customer's history while enabled (or in shadow): the conditions and frequency
   * caps of every version.
   */
  history: HistoryNeeds;
  /** ... while disabled: active runs end at once, so only the `closeOn` of the tasks it opened. */
  disabledHistory: HistoryNeeds;
}

/** Compiles a (validated) definition. */
export function compileTrigger(definition: TriggerDefinition, version: number): CompiledTrigger {
  const steps = new Map<string, CompiledStep>();
  const first = flatten(definition.steps, '', END, steps);
  const reentry = definition.reentry ?? 'once';
  return {
    id: definition.id,
    version,
    definition,
    priority: definition.priority ?? 0,
    entry: compileEntry(definition.entry),
    reentry: reentry === 'once' || reentry === 'every' ? { kind: reentry } : { kind: 'oncePer', ms: parseDuration(reentry.oncePer)!.ms },
    maxEventAgeMs: parseDuration(definition.maxEventAge ?? '7d')!.ms,
    ...(definition.key !== undefined ? { key: compileKey(definition.key) } : {}),
    first,
    steps,
    exits: (definition.exit ?? []).map((x) => ({ when: compileSignal(x.when), reason: x.reason ?? 'goal reached' })),
    caps: (definition.guards?.frequencyCaps ?? []).map((c) => ({
      max: c.max,
      perMs: parseDuration(c.per)!.ms,
      per: c.per,
      scope: c.scope,
    })),
    quietHours: definition.guards?.quietHours,
  };
}

/** A program from a definition aggregate's state, compiling each version once (`cache` keeps compiled versions). */
export function triggerProgram(state: TriggerState, cache = new Map<number, CompiledTrigger>()): TriggerProgram {
  const version = (v: number) => {
    let c = cache.get(v);
    if (!c && state.definitions[v]) cache.set(v, (c = compileTrigger(state.definitions[v], v)));
    return c;
  };
  const history = emptyHistoryNeeds();
  const disabledHistory = emptyHistoryNeeds();
  for (const definition of Object.values(state.definitions)) {
    const { conditions, closeOn } = signalsOf(definition);
    for (const signal of conditions) addHistoryNeeds(history, signal);
    for (const signal of closeOn) {
      addHistoryNeeds(history, signal);
      addHistoryNeeds(disabledHistory, signal);
    }
    for (const cap of definition.guards?.frequencyCaps ?? []) history.messagesMs = Math.max(history.messagesMs, parseDuration(cap.per)!.ms);
  }
  const shadow = state.shadow !== undefined ? version(state.shadow) : undefined;
  return {
    id: state.triggerId,
    enabled: state.enabled,
    latest: version(state.version)!,
    version,
    ...(shadow ? { shadow } : {}),
    history,
    disabledHistory,
  };
}

/** Every condition of a definition: entry, exits, those of its steps (branch, wait until), and apart, the tasks' `closeOn`. */
function signalsOf(definition: TriggerDefinition): { conditions: Signal[]; closeOn: Signal[] } {
  const conditions: Signal[] = [definition.entry, ...(definition.exit ?? []).map((x) => x.when)];
  const closeOn: Signal[] = [];
  forEachStep(definition.steps, (step) => {
    if ('wait' in step && 'until' in step.wait) conditions.push(step.wait.until);
    if ('branch' in step) conditions.push(step.branch.if);
    if ('task' in step && step.task.closeOn) closeOn.push(step.task.closeOn);
  });
  return { conditions, closeOn };
}

function flatten(steps: Step[], prefix: string, after: string, out: Map<string, CompiledStep>): string {
  const addr = (i: number) => `${prefix}${i}`;
  steps.forEach((step, i) => {
    const here = addr(i);
    const next = i + 1 < steps.length ? addr(i + 1) : after;
    out.set(here, compileStep(step, here, next, out));
  });
  return steps.length ? addr(0) : after;
}

function compileStep(step: Step, here: string, next: string, out: Map<string, CompiledStep>): CompiledStep {
  if ('wait' in step) {
    const w = step.wait;
    if ('duration' in w) return { kind: 'wait', ms: parseDuration(w.duration)!.ms, next };
    return {
      kind: 'waitUntil',
      until: compileSignal(w.until),
      timeoutMs: parseDuration(w.timeout)!.ms,
      onEvent: flatten(w.onEvent ?? [], `${here}.onEvent.`, next, out),
      onTimeout: flatten(w.onTimeout ?? [], `${here}.onTimeout.`, next, out),
    };
  }
  if ('branch' in step) {
    const b = step.branch;
    return {
      kind: 'branch',
      test: compileSignal(b.if),
      then: flatten(b.then ?? [], `${here}.then.`, next, out),
      else: flatten(b.else ?? [], `${here}.else.`, next, out),
    };
  }
  if ('split' in step) {
    const s = step.split;
    return {
      kind: 'split',
      holdout: s.holdout ?? 0,
      variants: s.variants.map((v, i) => ({
        name: v.name,
        weight: v.weight,
        first: flatten(v.steps, `${here}.variants.${i}.`, next, out),
      })),
    };
  }
  if ('send' in step) return { kind: 'send', ...step.send, next };
  if ('task' in step) {
    const t = step.task;
    return {
      kind: 'task',
      title: t.title,
      owner: t.owner,
      priority: t.priority ?? 'normal',
      dueMs: t.due ? parseDuration(t.due)!.ms : undefined,
      closeOn: t.closeOn ? compileSignal(t.closeOn) : undefined,
      next,
    };
  }
  if ('set' in step) return { kind: 'set', stage: step.set.stage, traits: step.set.traits, next };
  if ('emit' in step) return { kind: 'emit', event: step.emit.event, properties: step.emit.properties ?? {}, next };
  if ('reply' in step) return { kind: 'reply', body: step.reply.body, next };
  if ('tag' in step) return { kind: 'tag', tags: [...new Set(step.tag.tags)], next };
  if ('handoff' in step) return { kind: 'handoff', team: step.handoff.team, priority: step.handoff.priority ?? 'normal', next };
  if ('resolve' in step) return { kind: 'resolve', next };
  if ('webhook' in step) {
    const w = step.webhook;
    return { kind: 'webhook', url: w.url.trim(), method: w.method ?? 'POST', headers: w.headers ?? {}, body: w.body ?? '', next };
  }
  return { kind: 'exit', reason: step.exit?.reason ?? 'exit step' };
}
