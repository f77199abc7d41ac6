import { BadRequestException } from '@nestjs/common';
import { STAGES } from '@journey/domain';
import { queryScalar, type SearchOrder, type SearchQuery, type SearchValue, type TermFilter, type ValueRange } from '@journey/read-models';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;
/** The largest bound of a bounded count (`count=<n>`). */
export const MAX_COUNT = 1_000_000;
const MAX_TEXT = 256;

const FIXED = [
  'idPrefix',
  'stage',
  'segment',
  'lastSeen.after',
  'lastSeen.before',
  'health.min',
  'health.max',
  'sort',
  'order',
  'limit',
  'cursor',
  'count',
];
const TRAIT_OPS = ['eq', 'gt', 'gte', 'lt', 'lte'] as const;
type TraitOp = (typeof TRAIT_OPS)[number];
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** The parsed request: the store query (its partition set by the caller) and how to answer. */
export interface CustomerSearch {
  query: Omit<SearchQuery, 'partition'>;
  /** The order as the cursor records it (`<sort>:<order>`): a cursor of another order is refused. */
  signature: string;
}

const bad = (message: string) => new BadRequestException(message);

function text(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw bad(`${name}: give it once, as a string`);
  if (v === '') throw bad(`${name}: must not be empty`);
  if (v.length > MAX_TEXT) throw bad(`${name}: at most ${MAX_TEXT} characters`);
  return v;
}

function isoTime(name: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const ms = ISO_8601.test(v) ? Date.parse(v.length === 10 ? `${v}T00:00:00Z` : v) : NaN;
  if (Number.isNaN(ms)) throw bad(`${name}: must be an ISO 8601 date or date-time such as 2026-01-31T12:00:00Z, got "${v}"`);
  return new Date(ms).toISOString();
}

function healthBound(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = /^\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
  if (!(n >= 0 && n <= 100)) throw bad(`${name}: must be a number from 0 to 100, got "${v}"`);
  return n;
}

/** `trait.<name>` or `trait.<name>.<op>`: the last segment is an operator when it is one of TRAIT_OPS. */
function traitParam(param: string): { name: string; op: TraitOp } {
  const rest = param.slice('trait.'.length);
  const dot = rest.lastIndexOf('.');
  const last = dot >= 0 ? rest.slice(dot + 1) : '';
  const [name, op] = (TRAIT_OPS as readonly string[]).includes(last) ? [rest.slice(0, dot), last as TraitOp] : [rest, 'eq' as TraitOp];
  if (name === '') throw bad(`${param}: name the trait, as trait.<name>=<value> or trait.<name>.<${TRAIT_OPS.join('|')}>=<value>`);
  if (name.length > MAX_TEXT) throw bad(`${param}: a trait name has at most ${MAX_TEXT} characters`);
  return { name, op };
}

/**
 * Parses `GET /v1/customers?…` (every parameter at most once, except `segment`). Values are data: they become bound
 * parameters (SQLite) or values (MongoDB), never operators; a bad parameter is a 400 that names it.
 */
export function parseCustomerSearch(query: Record<string, unknown>): CustomerSearch {
  const unknown = Object.keys(query).filter((k) => !FIXED.includes(k) && !k.startsWith('trait.'));
  if (unknown.length)
    throw bad(`unknown query parameter(s) ${unknown.join(', ')}; known: ${FIXED.join(', ')}, trait.<name>[.${TRAIT_OPS.join('|.')}]`);

  const q: Omit<SearchQuery, 'partition'> = { order: { by: 'key', direction: 'asc' }, limit: DEFAULT_LIMIT };
  const fields: Record<string, ValueRange> = {};
  const terms: TermFilter[] = [];

  const idPrefix = text(query, 'idPrefix');
  if (idPrefix !== undefined) q.keyPrefix = idPrefix;

  const stage = text(query, 'stage');
  if (stage !== undefined) {
    const stages = stage.split(',');
    for (const s of stages)
      if (s !== 'none' && !(STAGES as readonly string[]).includes(s))
        throw bad(`stage: each of a comma-separated list of ${STAGES.join(', ')} or none (not identified yet), got "${s}"`);
    fields.stage = { in: [...new Set(stages.map((s) => (s === 'none' ? '' : s)))] };
  }

  const segments = query.segment === undefined ? [] : Array.isArray(query.segment) ? query.segment : [query.segment];
  for (const s of segments) {
    if (typeof s !== 'string' || s === '' || s.length > MAX_TEXT) throw bad(`segment: a segment id (1 to ${MAX_TEXT} characters)`);
    terms.push({ field: 'segments', range: { eq: s } });
  }

  const after = isoTime('lastSeen.after', text(query, 'lastSeen.after'));
  const before = isoTime('lastSeen.before', text(query, 'lastSeen.before'));
  // (a customer never seen has lastSeen '' in the index: not "seen before" any time)
  if (after !== undefined || before !== undefined) fields.lastSeen = { gt: after ?? '', ...(before !== undefined && { lt: before }) };

  const min = healthBound('health.min', text(query, 'health.min'));
  const max = healthBound('health.max', text(query, 'health.max'));
  if (min !== undefined && max !== undefined && min > max) throw bad(`health.min (${min}) is above health.max (${max})`);
  if (min !== undefined || max !== undefined)
    fields.health = { ...(min !== undefined && { gte: min }), ...(max !== undefined && { lte: max }) };

  const traits = new Map<string, ValueRange>();
  for (const param of Object.keys(query).filter((k) => k.startsWith('trait.'))) {
    const { name, op } = traitParam(param);
    const value = queryScalar(text(query, param)!);
    const range = traits.get(name) ?? {};
    if (range[op] !== undefined) throw bad(`${param}: trait.${name} has more than one ${op} condition`);
    range[op] = value;
    const types = new Set(
      TRAIT_OPS.map((o) => range[o])
        .filter((v): v is SearchValue => v !== undefined && v !== range.eq)
        .map((v) => typeof v),
    );
    if (types.size > 1)
      throw bad(`${param}: the bounds of trait.${name} must both be numbers, or both dates or strings (a value is one or the other)`);
    traits.set(name, range);
  }
  for (const [name, range] of traits) terms.push({ field: 'traits', name, range });

  const sort = text(query, 'sort') ?? 'id';
  const direction = text(query, 'order') ?? 'asc';
  if (direction !== 'asc' && direction !== 'desc') throw bad(`order: asc or desc, got "${direction}"`);
  let order: SearchOrder;
  if (sort === 'id') order = { by: 'key', direction };
  else if (sort === 'lastSeen' || sort === 'health') order = { by: 'field', field: sort, direction };
  else if (sort.startsWith('trait.') && sort.length > 'trait.'.length)
    order = { by: 'term', field: 'traits', name: sort.slice('trait.'.length), direction };
  else throw bad(`sort: id, lastSeen, health or trait.<name>, got "${sort}"`);
  q.order = order;

  const limitText = text(query, 'limit');
  if (limitText !== undefined) {
    const limit = /^\d+$/.test(limitText) ? Number(limitText) : NaN;
    if (!(limit >= 1 && limit <= MAX_LIMIT)) throw bad(`limit: an integer from 1 to ${MAX_LIMIT}, got "${limitText}"`);
    q.limit = limit;
  }

  const count = text(query, 'count');
  if (count !== undefined && count !== 'false') {
    const bound = /^\d+$/.test(count) ? Number(count) : NaN;
    if (count === 'true') q.count = true;
    else if (bound >= 1 && bound <= MAX_COUNT) q.count = bound;
    else throw bad(`count: true (the exact total), false, or a bound from 1 to ${MAX_COUNT} (count at most that many), got "${count}"`);
  }

  if (Object.keys(fields).length) q.fields = fields;
  if (terms.length) q.terms = terms;
  const signature = `${sort}:${direction}`;
  const cursor = text(query, 'cursor');
  if (cursor !== undefined) q.after = decodeCursor(cursor, signature);
  return { query: q, signature };
}

/** A cursor: the order and the last hit's (value, key), opaque to clients (base64url JSON). */
export function encodeCursor(signature: string, value: SearchValue, key: string): string {
  return Buffer.from(JSON.stringify({ s: signature, v: value, k: key }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string, signature: string): { value: SearchValue; key: string } {
  let parsed: unknown;
  try {
    parsed = /^[A-Za-z0-9_-]+$/.test(cursor) ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) : undefined;
  } catch {
    parsed = undefined;
  }
  const c = parsed as { s?: unknown; v?: unknown; k?: unknown } | undefined;
  const valid =
    c !== null &&
    typeof c === 'object' &&
    typeof c.s === 'string' &&
    typeof c.k === 'string' &&
    (typeof c.v === 'string' || (typeof c.v === 'number' && Number.isFinite(c.v)));
  if (!valid) throw bad('cursor: not a cursor of this search (give nextCursor of the previous page)');
  if (c.s !== signature)
    throw bad(`cursor: it pages a search sorted by ${String(c.s).replace(':', ' ')}, not ${signature.replace(':', ' ')}`);
  return { value: c.v as SearchValue, key: c.k as string };
}
