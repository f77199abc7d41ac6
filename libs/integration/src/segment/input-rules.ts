/**
 * The limits an ingested call must keep (README "Ingestion semantics"): every event the engine acknowledges must be one
 * that every projection, reactor and subscriber can handle, so what they cannot is refused at the door. Pure and
 * iterative: no recursion, so no input can overflow the stack here.
 */

export const INGESTION_LIMITS = {
  /** Nesting of a free-form field (`traits`, `properties`, `context`), the field itself being level 1. */
  depth: 32,
  /** Keys of one object, items of one array. */
  keys: 1000,
  items: 10_000,
  /** UTF-16 code units of a key, of a string value. */
  keyLength: 256,
  stringLength: 32_768,
  /** Ids (`userId`, `anonymousId`, `messageId`, `groupId`, `previousId`) and the `event` name; `name`, `category`. */
  idLength: 256,
  nameLength: 1024,
} as const;

/** A short, well-formed account of a rejected value: strings are quoted (and cut), nothing else is written out. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'object') return value === null ? 'null' : Array.isArray(value) ? 'an array' : 'an object';
  return `${String(value)} (a ${typeof value})`;
}

const SIMPLE_KEY = /^[A-Za-z_$][\w$]*$/;

interface Node {
  value: unknown;
  depth: number;
  parent?: Node;
  key?: string | number;
}

function pathOf(node: Node | undefined, field: string): string {
  const parts: string[] = [];
  for (let n = node; n?.parent; n = n.parent) {
    const key = n.key!;
    parts.push(typeof key === 'number' ? `[${key}]` : SIMPLE_KEY.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`);
  }
  return field + parts.reverse().join('');
}

/**
 * The first problem of a free-form JSON value under `field`, in document order, as a message naming its path (e.g.
 * `properties.items[1].sku must be well-formed UTF-16 (no lone surrogate)`); undefined when it keeps the limits.
 */
export function jsonValueProblem(value: unknown, field: string): string | undefined {
  const { depth: maxDepth, keys: maxKeys, items: maxItems, keyLength, stringLength } = INGESTION_LIMITS;
  const stack: Node[] = [{ value, depth: 1 }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const v = node.value;
    switch (typeof v) {
      case 'string':
        if (!v.isWellFormed()) return `${pathOf(node, field)} must be well-formed UTF-16 (no lone surrogate)`;
        if (v.length > stringLength) return `${pathOf(node, field)} must be at most ${stringLength} characters long`;
        continue;
      case 'number':
        if (!Number.isFinite(v)) return `${pathOf(node, field)} must be a finite number`;
        continue;
      case 'boolean':
        continue;
      case 'object': {
        if (v === null) continue;
        if (node.depth > maxDepth) return `${field} must not nest deeper than ${maxDepth} levels (objects and arrays)`;
        if (Array.isArray(v)) {
          if (v.length > maxItems) return `${pathOf(node, field)} must have at most ${maxItems} items`;
          for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], depth: node.depth + 1, parent: node, key: i });
          continue;
        }
        const proto = Object.getPrototypeOf(v);
        if (proto !== Object.prototype && proto !== null) break;
        const keys = Object.keys(v);
        if (keys.length > maxKeys) return `${pathOf(node, field)} must have at most ${maxKeys} keys`;
        for (let i = keys.length - 1; i >= 0; i--) {
          const key = keys[i];
          if (!key.isWellFormed())
            return `${pathOf(node, field)}[${JSON.stringify(key)}] (a key) must be well-formed UTF-16 (no lone surrogate)`;
          if (key.length > keyLength) return `a key of ${pathOf(node, field)} must be at most ${keyLength} characters long`;
          if (key === '__proto__') return `${pathOf(node, field)}: the key __proto__ is not allowed`;
          stack.push({ value: (v as Record<string, unknown>)[key], depth: node.depth + 1, parent: node, key });
        }
        continue;
      }
    }
    return `${pathOf(node, field)} must be a JSON value`;
  }
  return undefined;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):?(\d{2}))$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const MIN_TIME = Date.UTC(1970, 0, 1);
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * The instant (ms since the epoch) of an RFC 3339 date-time: `2026-01-31T12:00:00.000Z`, with seconds, an optional
 * fraction (kept to the millisecond) and a time zone (`Z`, `±hh:mm`, or `±hhmm` as Java's formatters write it), in
 * 1970-01-01T00:00:00Z..9999-12-31T23:59:59.999Z. Undefined for anything else: other ISO 8601 forms (week and
 * ordinal dates, the basic format, no time zone), impossible dates and times, leap seconds.
 */
export function parseDateTime(text: string): number | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1])) return undefined;
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offset = 0;
  if (m[8]) {
    const offsetHour = Number(m[9]);
    const offsetMinute = Number(m[10]);
    if (offsetHour > 23 || offsetMinute > 59) return undefined;
    offset = (m[8] === '-' ? -1 : 1) * (offsetHour * 60 + offsetMinute) * 60_000;
  }
  const ms = m[7] ? Number(m[7].length >= 3 ? m[7].slice(0, 3) : m[7].padEnd(3, '0')) : 0;
  const time = Date.UTC(year, month - 1, day, hour, minute, second, ms) - offset;
  return time >= MIN_TIME && time <= MAX_TIME ? time : undefined;
}
