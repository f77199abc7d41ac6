/**
 * Validation of trigger documents with clear errors: the path to the bad field and what was expected, e.g.
 * `steps[2].wait.duration: expected a duration like "3d", got "soon"`.
 */
import { parse as parseYaml } from 'yaml';
import { STAGES } from '../events';
import { findTriggerCycle, formatTriggerCycle } from './cycles';
import { SECRET_NAME } from '../conversations/settings';
import { CONVERSATION_CHANNELS } from '../conversations/types';
import { TASK_PRIORITIES, WEBHOOK_METHODS, type TriggerDefinition } from './schema';
import { replyWords } from './conditions';
import { MAX_DURATION_DAYS, dateValue, parseClock, parseDuration } from './time';

export interface TriggerValidationError {
  path: string;
  message: string;
}
export type TriggerValidation = { ok: true; definition: TriggerDefinition } | { ok: false; errors: TriggerValidationError[] };

/**
 * What validation cannot know in a pure domain, passed in by the caller (the engine): the channels messages can go
 * through, and a template checker (the messaging lib's Liquid parser) answering why a template source is refused, or
 * undefined when it is fine. Without them, channels and templates are only checked to be non-empty strings.
 */
export interface TriggerValidationPorts {
  channels?: readonly string[];
  checkTemplate?: (source: string) => string | undefined;
}

export class InvalidTriggerError extends Error {
  constructor(readonly errors: TriggerValidationError[]) {
    super(errors.map(formatValidationError).join('; '));
    this.name = 'InvalidTriggerError';
  }
}

export function formatValidationError(e: TriggerValidationError): string {
  return e.path ? `${e.path}: ${e.message}` : e.message;
}

/** Parses a YAML or JSON document (JSON is YAML) and validates it. */
export function parseTrigger(text: string, ports: TriggerValidationPorts = {}): TriggerValidation {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    return { ok: false, errors: [{ path: '', message: `not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}` }] };
  }
  return validateTrigger(doc, ports);
}

/** Validates a trigger document; returns the typed definition or every error found. */
export function validateTrigger(doc: unknown, ports: TriggerValidationPorts = {}): TriggerValidation {
  const v = new Validator(ports);
  v.definition(doc);
  if (v.errors.length) return { ok: false, errors: v.errors };
  const definition = doc as TriggerDefinition;
  const cycle = findTriggerCycle([definition], definition.id);
  if (cycle) return { ok: false, errors: [{ path: cycle.path, message: formatTriggerCycle(cycle) }] };
  return { ok: true, definition };
}

/**
 * Validates one signal of the trigger language at `path` (every error found). `temporal`: whether `absent`, `inactive`
 * and `date` are allowed there (a trigger's entry; segments, whose conditions are states, allow absence too).
 */
export function validateSignal(path: string, signal: unknown, options: { temporal?: boolean } = {}): TriggerValidationError[] {
  const v = new Validator({});
  v.checkSignal(path, signal, options.temporal ?? false);
  return v.errors;
}

/** Validates property filters (`traits`, `account`, `where`) at `path`. */
export function validateFilters(path: string, filters: unknown): TriggerValidationError[] {
  const v = new Validator({});
  v.checkFilters(path, filters);
  return v.errors;
}

/** Like `validateTrigger`, but throws `InvalidTriggerError`. */
export function assertValidTrigger(doc: unknown): TriggerDefinition {
  const r = validateTrigger(doc);
  if (!r.ok) throw new InvalidTriggerError(r.errors);
  return r.definition;
}

const SIGNAL_KINDS = [
  'event',
  'absent',
  'inactive',
  'count',
  'sum',
  'usageDrop',
  'date',
  'stage',
  'inStage',
  'trait',
  'traits',
  'reply',
  'segment',
  'inSegment',
  'account',
  'all',
  'any',
  'not',
];
const STEP_KINDS = ['wait', 'branch', 'split', 'send', 'task', 'set', 'emit', 'exit', 'reply', 'tag', 'handoff', 'resolve', 'webhook'];
const FILTER_OPS = ['equals', 'notEquals', 'in', 'notIn', 'gt', 'gte', 'lt', 'lte', 'before', 'after', 'exists', 'contains'];
const COMPARATORS = ['lt', 'lte', 'gt', 'gte', 'eq'];
const ID = /^[a-z0-9][a-z0-9_-]{0,63}$/i;
const TAG = /^[\p{L}\p{N}][\p{L}\p{N}_:/-]{0,63}$/u;
/** Every use of `secrets` in a template: `secrets.NAME`, `secrets["NAME"]`, a bare `secrets` (its group 1: the name, if dotted). */
const SECRET_USE = /\bsecrets(?:\.([^\s|}%.[\]]*)|\[[^\]]*\]|(?![\w.]))/g;
/** A value that names a secret in an output tag. */
const SECRET_REF = /\{\{-?\s*secrets\.[A-Za-z][A-Za-z0-9_]{0,63}\s*-?\}\}/;
const WHOLE_SECRET = /^\{\{-?\s*secrets\.[A-Za-z][A-Za-z0-9_]{0,63}\s*-?\}\}$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
/** Well-known credential shapes (Stripe, Slack, GitHub, AWS keys, JWTs): refused in any header value written as is. */
const LITERAL_CREDENTIAL =
  /\b(?:[sprk]k_(?:live|test)_\w{8,}|xox[abprs]-[\w-]{8,}|gh[pousr]_\w{20,}|github_pat_\w{20,}|AKIA[0-9A-Z]{16}|eyJ[\w-]{8,}\.[\w-]{8,}\.)/;
/** Headers that carry credentials: their value must come from a secret. */
const CREDENTIAL_HEADER = /authorization|api[-_]?key|token|secret|password|cookie|signature/i;

type Obj = Record<string, unknown>;
const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);

class Validator {
  readonly errors: TriggerValidationError[] = [];

  constructor(private readonly ports: TriggerValidationPorts) {}

  /** One error per path (a missing field is not also reported as a wrong type). */
  private fail(path: string, message: string): false {
    if (!this.errors.some((e) => e.path === path)) this.errors.push({ path, message });
    return false;
  }

  /** An object with only the allowed keys, and the required ones present. */
  private object(path: string, v: unknown, required: string[], optional: string[]): v is Obj {
    if (!isObj(v)) return this.fail(path, `expected an object, got ${show(v)}`);
    for (const k of required) if (v[k] === undefined) this.fail(join(path, k), 'is required');
    for (const k of Object.keys(v))
      if (!required.includes(k) && !optional.includes(k))
        this.fail(join(path, k), `unknown field; expected one of ${[...required, ...optional].join(', ')}`);
    return true;
  }

  private string(path: string, v: unknown, optional = false): void {
    if (v === undefined && optional) return;
    if (typeof v !== 'string' || v.trim() === '') this.fail(path, `expected a non-empty string, got ${show(v)}`);
  }

  private number(path: string, v: unknown, optional = false, min = -Infinity, max = Infinity): void {
    if (v === undefined && optional) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max)
      this.fail(path, `expected a number${min > -Infinity ? ` from ${min}` : ''}${max < Infinity ? ` to ${max}` : ''}, got ${show(v)}`);
  }

  private duration(path: string, v: unknown, optional = false, signed = false): void {
    if (v === undefined && optional) return;
    const d = parseDuration(v, signed);
    if (!d) this.fail(path, `expected a duration like "${signed ? '-30d' : '3d'}", got ${show(v)}`);
    else if (d.tooLong) this.fail(path, `expected a duration of at most ${MAX_DURATION_DAYS}d (10 years), got ${show(v)}`);
  }

  private channel(path: string, v: unknown): void {
    const { channels } = this.ports;
    if (channels && typeof v === 'string' && v.trim() !== '' && !channels.includes(v))
      this.fail(path, `unknown channel ${show(v)}; expected one of ${channels.join(', ')}`);
  }

  private template(path: string, v: unknown): void {
    if (typeof v !== 'string' || !this.ports.checkTemplate) return;
    const problem = this.ports.checkTemplate(v);
    if (problem !== undefined) this.fail(path, `not a valid template: ${problem}`);
  }

  private stage(path: string, v: unknown, optional = false): void {
    if (v === undefined && optional) return;
    if (!STAGES.includes(v as never)) this.fail(path, `expected one of ${STAGES.join(', ')}, got ${show(v)}`);
  }

  private list(path: string, v: unknown, each: (p: string, item: unknown) => void, optional = false, nonEmpty = true): void {
    if (v === undefined && optional) return;
    if (!Array.isArray(v)) return void this.fail(path, `expected a list, got ${show(v)}`);
    if (nonEmpty && v.length === 0) return void this.fail(path, 'expected at least one item');
    v.forEach((item, i) => each(`${path}[${i}]`, item));
  }

  checkSignal(path: string, v: unknown, temporalAllowed: boolean): void {
    this.signal(path, v, temporalAllowed);
  }

  checkFilters(path: string, v: unknown): void {
    this.filters(path, v);
  }

  definition(doc: unknown): void {
    const fields = ['description', 'priority', 'key', 'reentry', 'maxEventAge', 'exit', 'guards'];
    if (!this.object('', doc, ['id', 'name', 'entry', 'steps'], fields)) return;
    if (doc.id !== undefined && (typeof doc.id !== 'string' || !ID.test(doc.id)))
      this.fail('id', `expected letters, digits, "-" or "_" (at most 64), got ${show(doc.id)}`);
    this.string('name', doc.name);
    this.string('description', doc.description, true);
    this.number('priority', doc.priority, true);
    this.duration('maxEventAge', doc.maxEventAge, true);
    if (doc.key !== undefined) this.key('key', doc.key);
    if (doc.reentry !== undefined && doc.reentry !== 'once' && doc.reentry !== 'every') {
      if (isObj(doc.reentry) && 'oncePer' in doc.reentry && Object.keys(doc.reentry).length === 1)
        this.duration('reentry.oncePer', doc.reentry.oncePer);
      else this.fail('reentry', `expected "once", "every" or { oncePer: "30d" }, got ${show(doc.reentry)}`);
    }
    if (doc.entry !== undefined) this.entry('entry', doc.entry);
    if (doc.steps !== undefined) this.steps('steps', doc.steps);
    this.list(
      'exit',
      doc.exit,
      (p, r) => {
        if (this.object(p, r, ['when'], ['reason'])) {
          if (r.when !== undefined) this.signal(`${p}.when`, r.when, false);
          this.string(`${p}.reason`, r.reason, true);
        }
      },
      true,
    );
    if (doc.guards !== undefined && this.object('guards', doc.guards, [], ['frequencyCaps', 'quietHours'])) {
      const g = doc.guards;
      this.list(
        'guards.frequencyCaps',
        g.frequencyCaps,
        (p, c) => {
          if (!this.object(p, c, ['max', 'per', 'scope'], [])) return;
          this.number(`${p}.max`, c.max, false, 0);
          this.duration(`${p}.per`, c.per);
          if (c.scope !== undefined && !['customer', 'channel', 'trigger'].includes(c.scope as string))
            this.fail(`${p}.scope`, `expected one of customer, channel, trigger, got ${show(c.scope)}`);
        },
        true,
      );
      // "none": no quiet hours, not even the workspace default
      if (g.quietHours !== undefined && g.quietHours !== 'none' && !isObj(g.quietHours))
        this.fail(
          'guards.quietHours',
          `expected { start, end } or "none" (no quiet hours, not even the workspace default), got ${show(g.quietHours)}`,
        );
      else if (
        g.quietHours !== undefined &&
        g.quietHours !== 'none' &&
        this.object('guards.quietHours', g.quietHours, ['start', 'end'], [])
      ) {
        for (const k of ['start', 'end'] as const) {
          const t = g.quietHours[k];
          if (t !== undefined && !parseClock(t)) this.fail(`guards.quietHours.${k}`, `expected a local time like "21:00", got ${show(t)}`);
        }
      }
    }
  }

  /** A keyed trigger's key: a property path of the entry event, `properties.<name>` (dots for nesting). */
  private key(path: string, v: unknown): void {
    const parts = typeof v === 'string' ? v.split('.') : [];
    if (typeof v !== 'string' || parts[0] !== 'properties' || parts.length < 2 || parts.some((p) => p.trim() === '') || v.length > 200)
      this.fail(
        path,
        `expected a property path of the entry event, "properties.<name>" (e.g. "properties.cartId": one run per cart), got ${show(v)}`,
      );
  }

  /** The entry: at most one temporal signal (absent, inactive, date), at the top or directly inside a top-level `all`. */
  private entry(path: string, v: unknown): void {
    if (isObj(v) && Array.isArray(v.all) && Object.keys(v).length === 1) {
      let temporal = 0;
      this.list(`${path}.all`, v.all, (p, s) => {
        const isTemporal = isObj(s) && ['absent', 'inactive', 'date'].some((k) => k in s);
        if (isTemporal && ++temporal > 1) this.fail(p, 'at most one temporal signal (absent, inactive, date) per entry');
        this.signal(p, s, isTemporal);
      });
    } else this.signal(path, v, true);
  }

  private signal(path: string, v: unknown, temporalAllowed: boolean): void {
    if (!isObj(v)) return void this.fail(path, `expected a signal (an object with one of ${SIGNAL_KINDS.join(', ')}), got ${show(v)}`);
    const kind = SIGNAL_KINDS.find((k) => k in v);
    if (!kind) return void this.fail(path, `expected one of ${SIGNAL_KINDS.join(', ')}`);
    if (kind === 'event') return this.eventSignal(path, v);
    if (!this.object(path, v, [kind], [])) return;
    const p = `${path}.${kind}`;
    const body = v[kind];
    if (['absent', 'inactive', 'date'].includes(kind) && !temporalAllowed)
      this.fail(path, `"${kind}" is a temporal signal: only allowed as the entry or directly inside the entry's "all"`);
    switch (kind) {
      case 'absent':
        if (!this.object(p, body, ['event', 'for', 'after'], ['where'])) return;
        this.eventSignal(p, { event: body.event, where: body.where });
        this.duration(`${p}.for`, body.for);
        if (this.object(`${p}.after`, body.after, ['event'], ['where'])) this.eventSignal(`${p}.after`, body.after);
        return;
      case 'inactive':
        if (this.object(p, body, ['for'], [])) this.duration(`${p}.for`, body.for);
        return;
      case 'count':
      case 'sum': {
        if (!this.object(p, body, kind === 'sum' ? ['event', 'within', 'property'] : ['event', 'within'], ['where', ...COMPARATORS]))
          return;
        this.eventSignal(p, { event: body.event, where: body.where });
        this.duration(`${p}.within`, body.within);
        if (kind === 'sum') this.string(`${p}.property`, body.property);
        const cmp = COMPARATORS.filter((c) => body[c] !== undefined);
        if (cmp.length === 0) this.fail(p, `expected a comparison: one of ${COMPARATORS.join(', ')}`);
        for (const c of cmp) this.number(`${p}.${c}`, body[c]);
        return;
      }
      case 'usageDrop':
        if (!this.object(p, body, ['window', 'baseline', 'below'], ['event'])) return;
        this.string(`${p}.event`, body.event, true);
        this.duration(`${p}.window`, body.window);
        this.duration(`${p}.baseline`, body.baseline);
        this.number(`${p}.below`, body.below, false, 0, 1);
        return;
      case 'date':
        if (!this.object(p, body, ['offset'], ['trait', 'event', 'property', 'at'])) return;
        if ((body.trait === undefined) === (body.property === undefined)) this.fail(p, 'expected either "trait" or "event" + "property"');
        this.string(`${p}.trait`, body.trait, true);
        this.string(`${p}.property`, body.property, true);
        if (body.property !== undefined) this.string(`${p}.event`, body.event);
        this.duration(`${p}.offset`, body.offset, false, true);
        if (body.at !== undefined && !parseClock(body.at)) this.fail(`${p}.at`, `expected a local time like "09:00", got ${show(body.at)}`);
        return;
      case 'stage':
        if (!this.object(p, body, [], ['entered', 'left'])) return;
        if (body.entered === undefined && body.left === undefined) this.fail(p, 'expected "entered" or "left"');
        this.stage(`${p}.entered`, body.entered, true);
        this.stage(`${p}.left`, body.left, true);
        return;
      case 'inStage':
        if (Array.isArray(body)) this.list(p, body, (q, s) => this.stage(q, s));
        else this.stage(p, body);
        return;
      case 'trait':
        if (!this.object(p, body, ['name'], ['to'])) return;
        this.string(`${p}.name`, body.name);
        if (body.to !== undefined) this.filter(`${p}.to`, body.to);
        return;
      case 'traits':
        this.filters(p, body);
        return;
      case 'reply': {
        if (!this.object(p, body, [], ['channel', 'contains', 'sentiment'])) return;
        const oneOrList = (q: string, v: unknown, each: (q: string, item: unknown) => void) =>
          Array.isArray(v) ? this.list(q, v, each) : each(q, v);
        if (body.channel !== undefined)
          oneOrList(`${p}.channel`, body.channel, (q, c) => {
            if (!CONVERSATION_CHANNELS.includes(c as never))
              this.fail(q, `expected one of ${CONVERSATION_CHANNELS.join(', ')}, got ${show(c)}`);
          });
        if (body.contains !== undefined)
          oneOrList(`${p}.contains`, body.contains, (q, w) => {
            if (typeof w !== 'string' || replyWords(w).length === 0)
              this.fail(q, `expected a word or phrase (letters or digits), got ${show(w)}`);
          });
        if (body.sentiment !== undefined && this.object(`${p}.sentiment`, body.sentiment, [], ['lt', 'lte', 'gt', 'gte'])) {
          const cmp = ['lt', 'lte', 'gt', 'gte'].filter((c) => (body.sentiment as Obj)[c] !== undefined);
          if (cmp.length === 0) this.fail(`${p}.sentiment`, 'expected a comparison: one of lt, lte, gt, gte (a VADER score from -1 to 1)');
          for (const c of cmp) this.number(`${p}.sentiment.${c}`, (body.sentiment as Obj)[c], false, -1, 1);
        }
        return;
      }
      case 'segment': {
        if (!this.object(p, body, [], ['entered', 'left'])) return;
        const given = ['entered', 'left'].filter((k) => body[k] !== undefined);
        if (given.length !== 1) this.fail(p, 'expected exactly one of "entered" or "left" (a segment id)');
        for (const k of given) this.segmentId(`${p}.${k}`, body[k]);
        return;
      }
      case 'inSegment':
        if (Array.isArray(body)) this.list(p, body, (q, id) => this.segmentId(q, id));
        else this.segmentId(p, body);
        return;
      case 'account':
        this.filters(p, body);
        return;
      case 'all':
      case 'any':
        this.list(p, body, (q, s) => this.signal(q, s, false));
        return;
      case 'not':
        this.signal(p, body, false);
        return;
    }
  }

  private segmentId(path: string, v: unknown): void {
    if (typeof v !== 'string' || !ID.test(v))
      this.fail(path, `expected a segment id (letters, digits, "-" or "_", at most 64), got ${show(v)}`);
  }

  private eventSignal(path: string, v: Obj): void {
    if (!this.object(path, v, ['event'], ['where'])) return;
    this.string(`${path}.event`, v.event);
    if (v.where !== undefined) this.filters(`${path}.where`, v.where);
  }

  private filters(path: string, v: unknown): void {
    if (!isObj(v)) return void this.fail(path, `expected property filters (an object), got ${show(v)}`);
    for (const [k, f] of Object.entries(v)) this.filter(join(path, k), f);
  }

  private filter(path: string, f: unknown): void {
    if (isScalar(f)) return;
    if (!this.object(path, f, [], FILTER_OPS)) return;
    if (Object.keys(f).length === 0) this.fail(path, `expected an operator: one of ${FILTER_OPS.join(', ')}`);
    for (const [op, arg] of Object.entries(f)) {
      const p = `${path}.${op}`;
      if (['gt', 'gte', 'lt', 'lte'].includes(op)) this.number(p, arg);
      else if (op === 'in' || op === 'notIn') {
        if (!Array.isArray(arg) || !arg.every(isScalar)) this.fail(p, `expected a list of values, got ${show(arg)}`);
      } else if (op === 'exists') {
        if (typeof arg !== 'boolean') this.fail(p, `expected true or false, got ${show(arg)}`);
      } else if (op === 'before' || op === 'after') {
        const offset = parseDuration(arg, true);
        if (offset?.tooLong) this.fail(p, `expected an offset from now of at most ${MAX_DURATION_DAYS}d (10 years), got ${show(arg)}`);
        else if (!offset && dateValue(typeof arg === 'string' ? arg : undefined) === undefined)
          this.fail(p, `expected an ISO date (years 0000 to 9999) or an offset from now like "+90d", got ${show(arg)}`);
      } else if (!isScalar(arg)) this.fail(p, `expected a value, got ${show(arg)}`);
    }
  }

  private steps(path: string, v: unknown, nonEmpty = true): void {
    this.list(path, v, (p, s) => this.step(p, s), false, nonEmpty);
  }

  private step(path: string, v: unknown): void {
    if (!isObj(v) || Object.keys(v).length !== 1 || !STEP_KINDS.includes(Object.keys(v)[0]))
      return void this.fail(
        path,
        `expected a step with exactly one of ${STEP_KINDS.join(', ')}, got ${show(isObj(v) ? Object.keys(v) : v)}`,
      );
    const kind = Object.keys(v)[0];
    const body = v[kind];
    const p = `${path}.${kind}`;
    switch (kind) {
      case 'wait':
        if (isObj(body) && 'until' in body) {
          if (!this.object(p, body, ['until', 'timeout'], ['onEvent', 'onTimeout'])) return;
          this.signal(`${p}.until`, body.until, false);
          this.duration(`${p}.timeout`, body.timeout);
          if (body.onEvent !== undefined) this.steps(`${p}.onEvent`, body.onEvent, false);
          if (body.onTimeout !== undefined) this.steps(`${p}.onTimeout`, body.onTimeout, false);
        } else if (this.object(p, body, ['duration'], [])) this.duration(`${p}.duration`, body.duration);
        return;
      case 'branch':
        if (!this.object(p, body, ['if'], ['then', 'else'])) return;
        this.signal(`${p}.if`, body.if, false);
        if (body.then !== undefined) this.steps(`${p}.then`, body.then, false);
        if (body.else !== undefined) this.steps(`${p}.else`, body.else, false);
        return;
      case 'split': {
        if (!this.object(p, body, ['variants'], ['holdout'])) return;
        this.number(`${p}.holdout`, body.holdout, true, 0, 100);
        const names = new Set<string>();
        this.list(`${p}.variants`, body.variants, (q, variant) => {
          if (!this.object(q, variant, ['name', 'weight', 'steps'], [])) return;
          this.string(`${q}.name`, variant.name);
          if (names.has(variant.name as string)) this.fail(`${q}.name`, `duplicate variant name ${show(variant.name)}`);
          names.add(variant.name as string);
          this.number(`${q}.weight`, variant.weight, false, 1);
          if (variant.steps !== undefined) this.steps(`${q}.steps`, variant.steps, false);
        });
        return;
      }
      case 'send':
        if (!this.object(p, body, ['channel', 'body'], ['subject', 'to', 'topic', 'template'])) return;
        for (const k of ['channel', 'body']) this.string(`${p}.${k}`, body[k]);
        for (const k of ['subject', 'to', 'topic']) this.string(`${p}.${k}`, body[k], true);
        this.channel(`${p}.channel`, body.channel);
        for (const k of ['body', 'subject']) this.template(`${p}.${k}`, body[k]);
        for (const k of ['body', 'subject', 'to']) this.noSecrets(`${p}.${k}`, body[k]);
        if (body.template !== undefined && this.object(`${p}.template`, body.template, ['id', 'version'], [])) {
          this.string(`${p}.template.id`, body.template.id);
          this.number(`${p}.template.version`, body.template.version, false, 1);
        }
        return;
      case 'task':
        if (!this.object(p, body, ['title'], ['owner', 'priority', 'due', 'closeOn'])) return;
        this.string(`${p}.title`, body.title);
        this.string(`${p}.owner`, body.owner, true);
        if (body.priority !== undefined && !TASK_PRIORITIES.includes(body.priority as never))
          this.fail(`${p}.priority`, `expected one of ${TASK_PRIORITIES.join(', ')}, got ${show(body.priority)}`);
        this.duration(`${p}.due`, body.due, true);
        if (body.closeOn !== undefined) this.signal(`${p}.closeOn`, body.closeOn, false);
        return;
      case 'set':
        if (!this.object(p, body, [], ['stage', 'traits'])) return;
        if (body.stage === undefined && body.traits === undefined) this.fail(p, 'expected "stage" or "traits"');
        this.stage(`${p}.stage`, body.stage, true);
        if (body.traits !== undefined && !isObj(body.traits)) this.fail(`${p}.traits`, `expected an object, got ${show(body.traits)}`);
        return;
      case 'emit':
        if (!this.object(p, body, ['event'], ['properties'])) return;
        this.string(`${p}.event`, body.event);
        if (body.properties !== undefined && !isObj(body.properties))
          this.fail(`${p}.properties`, `expected an object, got ${show(body.properties)}`);
        return;
      case 'exit':
        if (body !== null && this.object(p, body, [], ['reason'])) this.string(`${p}.reason`, body.reason, true);
        return;
      case 'reply':
        if (!this.object(p, body, ['body'], [])) return;
        this.string(`${p}.body`, body.body);
        this.template(`${p}.body`, body.body);
        this.noSecrets(`${p}.body`, body.body);
        return;
      case 'tag':
        if (!this.object(p, body, ['tags'], [])) return;
        this.list(`${p}.tags`, body.tags, (q, t) => {
          if (typeof t !== 'string' || !TAG.test(t))
            this.fail(q, `expected a tag (letters, digits, "-", "_", ":" or "/", at most 64), got ${show(t)}`);
        });
        return;
      case 'handoff':
        if (!this.object(p, body, ['team'], ['priority'])) return;
        if (body.team !== undefined && (typeof body.team !== 'string' || !ID.test(body.team)))
          this.fail(`${p}.team`, `expected a team id (letters, digits, "-" or "_", at most 64), got ${show(body.team)}`);
        if (body.priority !== undefined && !TASK_PRIORITIES.includes(body.priority as never))
          this.fail(`${p}.priority`, `expected one of ${TASK_PRIORITIES.join(', ')}, got ${show(body.priority)}`);
        return;
      case 'resolve':
        if (body !== null && !(isObj(body) && Object.keys(body).length === 0))
          this.fail(p, `expected {} (resolve takes no fields), got ${show(body)}`);
        return;
      case 'webhook':
        this.webhook(p, body);
        return;
    }
  }

  /** A webhook step: an http(s) URL (or a secret holding one), a method, headers whose credentials are secrets, a body. */
  private webhook(p: string, body: unknown): void {
    if (!this.object(p, body, ['url'], ['method', 'headers', 'body'])) return;
    this.string(`${p}.url`, body.url);
    if (typeof body.url === 'string' && body.url.trim() !== '') {
      const url = body.url.trim();
      if (!/^https?:\/\//i.test(url) && !WHOLE_SECRET.test(url))
        this.fail(`${p}.url`, `expected an http:// or https:// URL, or a secret holding one ({{ secrets.NAME }}), got ${show(url)}`);
      else if (/^https?:\/\/[^/?#]*@/i.test(url))
        this.fail(`${p}.url`, 'credentials in the URL are not allowed: put them in a workspace secret and a header ({{ secrets.NAME }})');
      else this.secretsIn(`${p}.url`, url);
      this.template(`${p}.url`, url);
    }
    if (body.method !== undefined && !WEBHOOK_METHODS.includes(body.method as never))
      this.fail(`${p}.method`, `expected one of ${WEBHOOK_METHODS.join(', ')}, got ${show(body.method)}`);
    if (body.headers !== undefined) {
      if (!isObj(body.headers)) this.fail(`${p}.headers`, `expected an object of header names and values, got ${show(body.headers)}`);
      else
        for (const [name, value] of Object.entries(body.headers)) {
          const q = `${p}.headers.${name}`;
          if (!HEADER_NAME.test(name)) this.fail(q, 'not a valid header name');
          else if (typeof value !== 'string' || value.trim() === '') this.fail(q, `expected a non-empty string, got ${show(value)}`);
          else if (/[\r\n]/.test(value)) this.fail(q, 'a header value cannot hold a line break');
          else if (LITERAL_CREDENTIAL.test(value.replace(/\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g, '')))
            this.fail(q, 'looks like a literal credential (an API key or token): put it in a workspace secret and use {{ secrets.NAME }}');
          else if (CREDENTIAL_HEADER.test(name) && !SECRET_REF.test(value))
            this.fail(
              q,
              `a credential header must name a workspace secret (e.g. "Bearer {{ secrets.crm_token }}"), never hold the credential itself`,
            );
          else {
            this.secretsIn(q, value);
            this.template(q, value);
          }
        }
    }
    if (body.body !== undefined) {
      if (typeof body.body !== 'string') this.fail(`${p}.body`, `expected a string (a Liquid template), got ${show(body.body)}`);
      else {
        this.secretsIn(`${p}.body`, body.body);
        this.template(`${p}.body`, body.body);
      }
    }
  }

  /** A message to the customer (a send's body, subject or `to`, a reply's body) never names a workspace secret. */
  private noSecrets(path: string, v: unknown): void {
    if (typeof v === 'string' && /\{\{[^}]*\bsecrets\b|\{%[^%]*\bsecrets\b/.test(v))
      this.fail(path, 'workspace secrets are only available in webhook steps, never in a message to the customer');
  }

  /** Every `secrets.…` a template's markup (`{{ }}`, `{% %}`) names is a valid secret name. */
  private secretsIn(path: string, source: string): void {
    const markup = (source.match(/\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g) ?? []).join(' ');
    for (const m of markup.matchAll(SECRET_USE)) {
      const name = m[1] ?? '';
      if (!SECRET_NAME.test(name))
        return void this.fail(
          path,
          `secret names are letters, digits and "_" (starting with a letter, at most 64): {{ secrets.NAME }}, got ${show(m[0])}`,
        );
    }
  }
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
