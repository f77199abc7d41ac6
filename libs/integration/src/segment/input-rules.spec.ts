import { INGESTION_LIMITS, jsonValueProblem, parseDateTime } from './input-rules';

/** `depth` objects nested in one another (the outermost is level 1), built without recursion. */
function nested(depth: number, leaf: unknown = 1): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

describe('jsonValueProblem', () => {
  it('accepts JSON within the limits, up to each limit', () => {
    const { depth, keys, items, keyLength, stringLength } = INGESTION_LIMITS;
    expect(
      jsonValueProblem({ plan: 'pro', seats: 12, trial: false, tags: ['a', null, 1.5], address: { city: 'Zürich 😀' } }, 'traits'),
    ).toBeUndefined();
    expect(jsonValueProblem(nested(depth), 'traits')).toBeUndefined();
    expect(jsonValueProblem({ list: nested(depth - 2, []) }, 'traits')).toBeUndefined();
    expect(jsonValueProblem(Object.fromEntries(Array.from({ length: keys }, (_, i) => [`k${i}`, i])), 'traits')).toBeUndefined();
    expect(jsonValueProblem({ ids: new Array(items).fill(0) }, 'properties')).toBeUndefined();
    expect(jsonValueProblem({ ['k'.repeat(keyLength)]: 's'.repeat(stringLength) }, 'context')).toBeUndefined();
    expect(jsonValueProblem(JSON.parse('{"a":{"__proto__x":1}}'), 'traits')).toBeUndefined();
  });

  it('refuses nesting beyond the limit, objects and arrays alike, at any depth without overflowing the stack', () => {
    expect(jsonValueProblem(nested(INGESTION_LIMITS.depth + 1), 'traits')).toBe(
      'traits must not nest deeper than 32 levels (objects and arrays)',
    );
    expect(jsonValueProblem({ list: nested(INGESTION_LIMITS.depth - 1, []) }, 'properties')).toBe(
      'properties must not nest deeper than 32 levels (objects and arrays)',
    );
    expect(jsonValueProblem(JSON.parse('['.repeat(1_000_000) + ']'.repeat(1_000_000)), 'context')).toBe(
      'context must not nest deeper than 32 levels (objects and arrays)',
    );
  });

  it('names the path of the first bad value in document order', () => {
    const value = { items: [{ sku: 'ok' }, { sku: 'x\ud800' }], later: 'y\udc00' };
    expect(jsonValueProblem(value, 'properties')).toBe('properties.items[1].sku must be well-formed UTF-16 (no lone surrogate)');
    expect(jsonValueProblem({ 'a b': { 'x\udfff': 1 } }, 'traits')).toBe(
      'traits["a b"]["x\\udfff"] (a key) must be well-formed UTF-16 (no lone surrogate)',
    );
    expect(jsonValueProblem({ bio: 'x'.repeat(32_769) }, 'traits')).toBe('traits.bio must be at most 32768 characters long');
    expect(jsonValueProblem({ a: { ['k'.repeat(257)]: 1 } }, 'traits')).toBe('a key of traits.a must be at most 256 characters long');
    expect(jsonValueProblem({ a: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, i])) }, 'traits')).toBe(
      'traits.a must have at most 1000 keys',
    );
    expect(jsonValueProblem({ ids: new Array(10_001).fill(0) }, 'properties')).toBe('properties.ids must have at most 10000 items');
  });

  it('refuses non-finite numbers, non-JSON values and a __proto__ key anywhere', () => {
    expect(jsonValueProblem(JSON.parse('{"n":[1e400]}'), 'properties')).toBe('properties.n[0] must be a finite number');
    expect(jsonValueProblem({ n: NaN }, 'properties')).toBe('properties.n must be a finite number');
    expect(jsonValueProblem({ at: new Date(0) }, 'properties')).toBe('properties.at must be a JSON value');
    expect(jsonValueProblem({ f: () => 1 }, 'properties')).toBe('properties.f must be a JSON value');
    expect(jsonValueProblem({ u: undefined }, 'properties')).toBe('properties.u must be a JSON value');
    expect(jsonValueProblem({ b: 1n }, 'properties')).toBe('properties.b must be a JSON value');
    expect(jsonValueProblem(JSON.parse('{"a":[{"__proto__":{"admin":true}}]}'), 'traits')).toBe(
      'traits.a[0]: the key __proto__ is not allowed',
    );
  });
});

describe('parseDateTime', () => {
  it.each([
    ['2026-01-31T12:00:00.000Z', '2026-01-31T12:00:00.000Z'],
    ['2026-01-31T12:00:00Z', '2026-01-31T12:00:00.000Z'],
    ['2026-01-31t12:00:00z', '2026-01-31T12:00:00.000Z'],
    ['2026-01-31T14:00:00.123456789+02:00', '2026-01-31T12:00:00.123Z'],
    ['2026-01-31T12:00:00.5-00:00', '2026-01-31T12:00:00.500Z'],
    ['2026-01-31T06:30:00-0530', '2026-01-31T12:00:00.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['2000-02-29T00:00:00Z', '2000-02-29T00:00:00.000Z'],
    ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00.000Z'],
    ['1970-01-01T00:30:00-01:00', '1970-01-01T01:30:00.000Z'],
    ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
    ['9999-12-31T23:59:59+01:00', '9999-12-31T22:59:59.000Z'],
  ])('reads %s as %s', (text, iso) => {
    expect(new Date(parseDateTime(text)!).toISOString()).toBe(iso);
  });

  it.each([
    ['a week date', '2024-W01-1'],
    ['the basic format', '20240101T100000Z'],
    ['an ordinal date', '2024-366'],
    ['a date alone', '2024-01-01'],
    ['no time zone', '2024-01-01T10:00:00'],
    ['no seconds', '2024-01-01T10:00Z'],
    ['a space for T', '2024-01-01 10:00:00Z'],
    ['an empty fraction', '2024-01-01T10:00:00.Z'],
    ['a comma fraction', '2024-01-01T10:00:00,5Z'],
    ['a fraction of 10 digits', '2024-01-01T10:00:00.1234567890Z'],
    ['an hour offset alone', '2024-01-01T10:00:00+02'],
    ['30 February', '2024-02-30T10:00:00Z'],
    ['29 February of a common year', '2023-02-29T10:00:00Z'],
    ['29 February of 1900', '1900-02-29T10:00:00Z'],
    ['month 13', '2024-13-01T10:00:00Z'],
    ['month 0', '2024-00-01T10:00:00Z'],
    ['day 0', '2024-01-00T10:00:00Z'],
    ['hour 24', '2024-01-01T24:00:00Z'],
    ['minute 60', '2024-01-01T10:60:00Z'],
    ['a leap second', '2016-12-31T23:59:60Z'],
    ['an offset of 24 hours', '2024-01-01T10:00:00+24:00'],
    ['offset minutes 60', '2024-01-01T10:00:00+01:60'],
    ['before 1970', '1969-12-31T23:59:59Z'],
    ['before 1970 once the offset applies', '1970-01-01T00:30:00+01:00'],
    ['a year before 100', '0050-01-01T00:00:00Z'],
    ['after 9999 once the offset applies', '9999-12-31T23:59:59-01:00'],
    ['an expanded year', '+010000-01-01T00:00:00Z'],
    ['text after it', '2024-01-01T10:00:00Z\n'],
    ['words', 'yesterday'],
    ['nothing', ''],
  ])('refuses %s (%s)', (_, text) => {
    expect(parseDateTime(text)).toBeUndefined();
  });
});
