/**
 * Named segments: an audience defined with the trigger language's conditions, versioned as a document on the stream
 * `segment-<workspace>-<segmentId>` (SegmentDefined, SegmentRemoved), its membership recorded as SegmentEntered /
 * SegmentLeft on each customer's stream (see `membership.ts`).
 */
import { parse as parseYaml } from 'yaml';
import type { Signal } from '../triggers/schema';
import { validateSignal, type TriggerValidationError } from '../triggers/validate';

export interface SegmentDefinition {
  id: string;
  name: string;
  description?: string;
  /**
   * A state of the customer, true or false at any moment: traits, `inStage`, events counted or summed in a window,
   * `usageDrop`, absence (`absent`, `inactive`) and account traits, combined with `all`, `any`, `not`.
   */
  conditions: Signal;
}

export type SegmentValidation = { ok: true; definition: SegmentDefinition } | { ok: false; errors: TriggerValidationError[] };

const ID = /^[a-z0-9][a-z0-9_-]{0,63}$/i;
/** How deep `all` / `any` / `not` may nest in a segment's conditions. */
export const MAX_DEPTH = 32;
const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The signals a segment's conditions may use (states), and why the others (moments) are refused, with what to use. */
export const SEGMENT_SIGNALS = ['traits', 'inStage', 'count', 'sum', 'usageDrop', 'absent', 'inactive', 'account', 'all', 'any', 'not'];
const REFUSED: Record<string, string> = {
  event: 'an event is a moment, not a state: count it in a window instead, e.g. { count: { event: "Signed Up", within: "30d", gte: 1 } }',
  trait: 'a trait change is a moment, not a state: use { traits: { name: value } }',
  stage: 'a stage change is a moment, not a state: use { inStage: stage }',
  reply: 'a reply is a moment, not a state: count replies in a window, e.g. { count: { event: "CustomerReplied", within: "7d", gte: 1 } }',
  date: 'not available in a segment: use a date filter on the trait, e.g. { traits: { renewal_date: { before: "+30d" } } }',
  segment: 'entering or leaving a segment is a trigger signal, not a segment condition',
  inSegment: 'a segment cannot depend on another segment (membership would chase itself): repeat its conditions instead',
};

/** Validates a segment document; returns the typed definition or every error found (each naming its path). */
export function validateSegment(doc: unknown): SegmentValidation {
  const errors: TriggerValidationError[] = [];
  const fail = (path: string, message: string) => void errors.push({ path, message });
  if (!isObj(doc)) return { ok: false, errors: [{ path: '', message: `expected a segment document (an object), got ${show(doc)}` }] };
  for (const k of ['id', 'name', 'conditions']) if (doc[k] === undefined) fail(k, 'is required');
  for (const k of Object.keys(doc))
    if (!['id', 'name', 'description', 'conditions'].includes(k))
      fail(k, 'unknown field; expected one of id, name, description, conditions');
  if (doc.id !== undefined && (typeof doc.id !== 'string' || !ID.test(doc.id)))
    fail('id', `expected letters, digits, "-" or "_" (at most 64), got ${show(doc.id)}`);
  if (doc.name !== undefined && (typeof doc.name !== 'string' || doc.name.trim() === ''))
    fail('name', `expected a non-empty string, got ${show(doc.name)}`);
  if (doc.description !== undefined && typeof doc.description !== 'string')
    fail('description', `expected a string, got ${show(doc.description)}`);
  if (doc.conditions !== undefined) errors.push(...conditionErrors('conditions', doc.conditions));
  return errors.length > 0 ? { ok: false, errors } : { ok: true, definition: doc as unknown as SegmentDefinition };
}

/** Parses a YAML or JSON segment document and validates it. */
export function parseSegment(text: string): SegmentValidation {
  try {
    return validateSegment(parseYaml(text));
  } catch (e) {
    return { ok: false, errors: [{ path: '', message: `not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}` }] };
  }
}

/** The errors of a segment condition: the kinds a segment takes, each leaf checked by the trigger language's validator. */
function conditionErrors(path: string, v: unknown, depth = 1): TriggerValidationError[] {
  if (depth > MAX_DEPTH) return [{ path, message: `conditions nest at most ${MAX_DEPTH} levels deep (all, any, not)` }];
  if (!isObj(v)) return [{ path, message: `expected a condition (an object with one of ${SEGMENT_SIGNALS.join(', ')}), got ${show(v)}` }];
  const keys = Object.keys(v);
  const refused = keys.find((k) => k in REFUSED);
  if (refused) return [{ path: `${path}.${refused}`, message: `not allowed in a segment: ${REFUSED[refused]}` }];
  const kind = SEGMENT_SIGNALS.find((k) => k in v);
  if (!kind || keys.length !== 1) return [{ path, message: `expected exactly one of ${SEGMENT_SIGNALS.join(', ')}, got ${show(keys)}` }];
  const body = v[kind];
  if (kind === 'all' || kind === 'any') {
    if (!Array.isArray(body)) return [{ path: `${path}.${kind}`, message: `expected a list, got ${show(body)}` }];
    if (body.length === 0) return [{ path: `${path}.${kind}`, message: 'expected at least one item' }];
    return body.flatMap((c, i) => conditionErrors(`${path}.${kind}[${i}]`, c, depth + 1));
  }
  if (kind === 'not') return conditionErrors(`${path}.not`, body, depth + 1);
  return validateSignal(path, v, { temporal: true });
}

export class InvalidSegmentError extends Error {
  constructor(readonly errors: TriggerValidationError[]) {
    super(errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; '));
    this.name = 'InvalidSegmentError';
  }
}
