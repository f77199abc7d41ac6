/**
 * Search over a collection's documents (the customers model: `GET /v1/customers?…`), engine-neutral.
 *
 * A collection that declares a `SearchSpec` gets a search index its store keeps beside the documents, written with
 * them (SQLite: in the same transaction; MongoDB: as hidden fields of the same document), derived from each document
 * by `searchRecord` (so a rebuild from zero gives the same index, and the rebuild comparison covers it):
 *   - the partition (the workspace: every search is inside one) and the key (the customer id: unique in a partition,
 *     the default order, the tiebreaker of every order, the prefix filter);
 *   - scalar fields (stage, lastSeen, health), each indexed as (partition, field, key): filters and orders;
 *   - terms: the entries of map fields (traits) and the members of set fields (segments) as (term, value) pairs, each
 *     indexed as (partition, term, value, key), so that a trait filter with paging is an index range scan.
 * Values are typed sortable scalars (see `searchScalar`): numbers, or strings. Numbers sort before strings (both
 * engines). Queries carry values as data only: bound parameters in SQL, values (never keys) in MongoDB filters.
 */

/** What a collection makes searchable. Field names are top-level document fields. */
export interface SearchSpec {
  /** A top-level string field: every search is inside one of its values (the workspace). */
  partition: string;
  /** A top-level string field unique within a partition (the customer id). */
  key: string;
  /** Top-level scalar fields, with the value indexed when the document has none (null): filters and orders. */
  fields: Record<string, string | number>;
  /** Map fields (`{ name: scalar }`, e.g. traits) and set fields (`string[]`, e.g. segments) indexed as terms. */
  terms: Record<string, 'map' | 'set'>;
}

export type SearchValue = string | number;

/** A condition on one value: equality, one of several, or a range (bounds of one type: numbers or strings). */
export interface ValueRange {
  eq?: SearchValue;
  in?: SearchValue[];
  gt?: SearchValue;
  gte?: SearchValue;
  lt?: SearchValue;
  lte?: SearchValue;
}

/** A term condition: `field` a terms field of the spec, `name` the map entry (absent for a set field). */
export interface TermFilter {
  field: string;
  name?: string;
  range: ValueRange;
}

export type SearchOrder =
  | { by: 'key'; direction: 'asc' | 'desc' }
  | { by: 'field'; field: string; direction: 'asc' | 'desc' }
  /** By a map entry's value (a trait): only documents that have it (as a searchable scalar). */
  | { by: 'term'; field: string; name: string; direction: 'asc' | 'desc' };

export interface SearchQuery {
  /** The partition's value (the workspace). */
  partition: string;
  keyPrefix?: string;
  fields?: Record<string, ValueRange>;
  /** Every one must hold. */
  terms?: TermFilter[];
  order: SearchOrder;
  /** Keyset paging: the order's value and the key of the last document of the previous page. */
  after?: { value: SearchValue; key: string };
  limit: number;
  /** Count the matches (ignoring `after` and `limit`): `true` all, a number at most that many. */
  count?: true | number;
}

export interface SearchHit<T> {
  id: string;
  doc: T;
  /** The order's value of this document (with its key: the cursor of a page ending here). */
  sortValue: SearchValue;
  key: string;
}

export interface SearchPage<T> {
  hits: Array<SearchHit<T>>;
  /** True when more documents follow the last hit. */
  more: boolean;
  /** With `count`: the matches, at most the bound. */
  total?: number;
  /** With a bounded `count`: true when there are more matches than the bound. */
  totalCapped?: boolean;
}

/** Strings longer than this are not indexed (not searchable); trait values that long are no filter anyone types. */
export const MAX_INDEXED_STRING = 256;
const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * The indexed form of a value (of a trait, or of a query): numbers as numbers, and strings that are a number's
 * canonical form ("10", "2.5": the way Segment clients often send numbers); ISO 8601 dates and date-times as the
 * ISO UTC string (so string order is time order: `2025-01-01T10:00:00+02:00` → `2025-01-01T08:00:00.000Z`); booleans
 * as "true" / "false"; other strings as they are. Anything else (null, objects, arrays, long strings): undefined.
 */
export function searchScalar(value: unknown): SearchValue | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value !== 'string' || value.length > MAX_INDEXED_STRING) return undefined;
  if (NUMBER.test(value) && String(Number(value)) === value) return Number(value);
  if (ISO_DATE.test(value)) {
    const ms = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
    if (!Number.isNaN(ms)) return new Date(ms).toISOString();
  }
  return value;
}

/** The indexed form of a value typed in a query: a number literal (`10`, `2.50`) is a number, else as `searchScalar`. */
export function queryScalar(text: string): SearchValue {
  if (NUMBER.test(text) && Number.isFinite(Number(text))) return Number(text);
  return searchScalar(text) ?? text;
}

/** The term of a map entry or a set field: `<field>:<name>` / `<field>` (field names have no ':'). */
export const termOf = (field: string, name?: string): string => (name === undefined ? field : `${field}:${name}`);

export interface SearchTerm {
  t: string;
  v: SearchValue;
}

export interface SearchRecord {
  partition: string;
  key: string;
  fields: Record<string, SearchValue>;
  terms: SearchTerm[];
}

/** What the index holds for a document: deterministic (terms sorted), so rebuilt and live indexes compare equal. */
export function searchRecord(spec: SearchSpec, doc: Record<string, unknown>): SearchRecord {
  const fields: Record<string, SearchValue> = {};
  for (const [f, missing] of Object.entries(spec.fields)) {
    const v = doc[f];
    fields[f] = typeof v === 'number' || typeof v === 'string' ? v : missing;
  }
  const terms: SearchTerm[] = [];
  const seen = new Set<string>();
  const add = (t: string, v: SearchValue) => {
    const k = `${t}\u0000${typeof v}\u0000${v}`;
    if (seen.has(k)) return;
    seen.add(k);
    terms.push({ t, v });
  };
  for (const [f, kind] of Object.entries(spec.terms)) {
    const value = doc[f];
    if (kind === 'set') {
      if (Array.isArray(value)) for (const m of value) if (typeof m === 'string' && m.length <= MAX_INDEXED_STRING) add(termOf(f), m);
    } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [name, v] of Object.entries(value)) {
        const scalar = searchScalar(v);
        if (scalar !== undefined && name !== '' && name.length <= MAX_INDEXED_STRING) add(termOf(f, name), scalar);
      }
    }
  }
  terms.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : compareValues(a.v, b.v)));
  return { partition: String(doc[spec.partition]), key: String(doc[spec.key]), fields, terms };
}

/** Numbers before strings, then by value (the order both engines index them in; strings by code unit here). */
export function compareValues(a: SearchValue, b: SearchValue): number {
  if (typeof a !== typeof b) return typeof a === 'number' ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The smallest string greater than every string that starts with `prefix` (undefined when there is none): the upper
 * bound of a prefix as a range, in code point order (which is UTF-8 byte order, both engines' string order).
 */
export function prefixEnd(prefix: string): string | undefined {
  const points = [...prefix].map((c) => c.codePointAt(0)!);
  while (points.length > 0) {
    const last = points.pop()!;
    if (last < 0x10ffff) {
      points.push(last === 0xd7ff ? 0xe000 : last + 1);
      return String.fromCodePoint(...points);
    }
  }
  return undefined;
}

/** The checks both stores make before running a query (the HTTP layer gives friendlier messages first). */
export function checkSearchQuery(spec: SearchSpec, q: SearchQuery): void {
  const fail = (m: string) => {
    throw new Error(`search: ${m}`);
  };
  if (typeof q.partition !== 'string') fail('the partition must be a string');
  for (const f of Object.keys(q.fields ?? {})) if (!(f in spec.fields)) fail(`"${f}" is not a search field`);
  for (const t of q.terms ?? []) {
    const kind = spec.terms[t.field];
    if (!kind) fail(`"${t.field}" is not a terms field`);
    if ((kind === 'map') !== (t.name !== undefined)) fail(`"${t.field}" ${kind === 'map' ? 'needs' : 'takes no'} a name`);
    if (t.name === '' || (t.name !== undefined && typeof t.name !== 'string')) fail('a term name must be a non-empty string');
  }
  if (q.order.by === 'field' && !(q.order.field in spec.fields)) fail(`"${q.order.field}" is not a search field`);
  if (q.order.by === 'term' && spec.terms[q.order.field] !== 'map') fail(`"${q.order.field}" is not a map terms field`);
  if (q.order.by === 'term' && (typeof q.order.name !== 'string' || q.order.name === '')) fail('a term name must be a non-empty string');
  if (!Number.isInteger(q.limit) || q.limit < 1) fail('limit must be a positive integer');
  const values = [
    ...Object.values(q.fields ?? {}).flatMap(rangeValues),
    ...(q.terms ?? []).flatMap((t) => rangeValues(t.range)),
    ...(q.after ? [q.after.value] : []),
  ];
  for (const v of values)
    if (typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) fail('values must be strings or numbers');
  if (q.after && typeof q.after.key !== 'string') fail('after.key must be a string');
}

const rangeValues = (r: ValueRange): unknown[] => [r.eq, r.gt, r.gte, r.lt, r.lte, ...(r.in ?? [])].filter((v) => v !== undefined);
