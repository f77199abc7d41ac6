import { termString } from './mongodb/mongo-read-model-store';
import { CUSTOMERS_COLLECTION } from './projections';
import { compareValues, prefixEnd, queryScalar, searchRecord, searchScalar } from './search';

describe('search values', () => {
  it('indexes a value by its look: numbers and canonical numeric strings as numbers, dates as UTC, booleans as text', () => {
    expect(searchScalar(10)).toBe(10);
    expect(searchScalar('10')).toBe(10);
    expect(searchScalar('2.5')).toBe(2.5);
    expect(searchScalar('010')).toBe('010'); // not a number's canonical form: a zip code stays a string
    expect(searchScalar('10.50')).toBe('10.50');
    expect(searchScalar('12345678901234567890')).toBe('12345678901234567890'); // beyond a double's precision
    expect(searchScalar('2025-01-01')).toBe('2025-01-01T00:00:00.000Z');
    expect(searchScalar('2025-01-01T10:00:00+02:00')).toBe('2025-01-01T08:00:00.000Z');
    expect(searchScalar('2025-13-45')).toBe('2025-13-45');
    expect(searchScalar(true)).toBe('true');
    expect(searchScalar('pro')).toBe('pro');
    for (const v of [null, undefined, {}, [], ['a'], NaN, Infinity, 'x'.repeat(257)]) expect(searchScalar(v)).toBeUndefined();
    expect(queryScalar('10.50')).toBe(10.5); // typed in a query: a number literal is a number
    expect(queryScalar('2025-01-01')).toBe('2025-01-01T00:00:00.000Z');
    expect(queryScalar('{"$gt":""}')).toBe('{"$gt":""}');
  });

  it('derives the same record from the same document (terms sorted), skipping what is not searchable', () => {
    const doc = {
      workspaceId: 'w',
      customerId: 'c',
      stage: null,
      lastSeen: null,
      health: 50,
      traits: { z: 1, a: 'x', nested: { b: 1 }, list: [1], '': 'empty name', none: null },
      segments: ['s2', 's1', 's1'],
    };
    const record = searchRecord(CUSTOMERS_COLLECTION.search, doc);
    expect(record).toEqual({
      partition: 'w',
      key: 'c',
      fields: { stage: '', lastSeen: '', health: 50 },
      terms: [
        { t: 'segments', v: 's1' },
        { t: 'segments', v: 's2' },
        { t: 'traits:a', v: 'x' },
        { t: 'traits:z', v: 1 },
      ],
    });
    expect(searchRecord(CUSTOMERS_COLLECTION.search, { ...doc, traits: { a: 'x', z: 1 } })).toEqual(record);
  });

  it('bounds a prefix by the next code point (skipping surrogates and the last code point)', () => {
    expect(prefixEnd('ab')).toBe('ac');
    expect(prefixEnd('a\u{10ffff}')).toBe('b');
    expect(prefixEnd('\u{10ffff}')).toBeUndefined();
    expect(prefixEnd('a\ud7ff')).toBe('a\ue000');
    expect(prefixEnd('é')).toBe('ê');
  });

  it('encodes MongoDB terms so that string order is the typed order: numbers by value, before strings', () => {
    let x = 7;
    const rnd = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const values = [0, -0, 1, -1, 0.5, -0.5, 1e300, -1e300, 5e-324, -5e-324, 'a', '', 'b', '10', 'Z'];
    for (let i = 0; i < 500; i++) values.push((rnd() - 0.5) * 10 ** Math.floor(rnd() * 20));
    const byValue = [...values].sort(compareValues);
    const byString = [...values].sort((a, b) => {
      const [p, q] = [termString('traits:x', a), termString('traits:x', b)];
      return p < q ? -1 : p > q ? 1 : 0;
    });
    expect(byString.map(String)).toEqual(byValue.map(String));
    expect(termString('t', 0)).toBe(termString('t', -0));
  });
});
