import { canonicalJson } from './canonical-json';

/** What documents were stored as before canonicalJson was written out by hand: stored text must not change. */
const reference = (value: unknown) =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );

describe('canonicalJson', () => {
  it('sorts keys at every depth and writes what JSON.stringify writes otherwise', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: null, y: 'é"\\' }], c: {} } })).toBe(
      '{"a":{"c":{},"d":[3,{"y":"é\\"\\\\","z":null}]},"b":1}',
    );
  });

  it('gives the same text as the sorting replacer it replaces, for edge cases too', () => {
    const cases: unknown[] = [
      null,
      7,
      'text',
      true,
      [],
      {},
      [undefined, () => 1, NaN, -0, Infinity],
      { skipped: undefined, fn: () => 1, kept: 0 },
      { '10': 'a', '9': 'b', x: 'c', '01': 'd', '-1': 'e', '4294967295': 'f', '4294967294': 'g', '1e3': 'h' },
      { when: new Date(Date.UTC(2026, 0, 2)), nested: { toJSON: () => ({ y: 1, x: 2 }) } },
      {
        workspaceId: 'w',
        customerId: 'c',
        traits: { plan: 'pro', email: 'a@b.c' },
        interactions: { total: 2, byEvent: { 'Logged In': 1, 'Feature Used': 1 } },
        openTasks: [{ title: 't', id: '1' }],
      },
    ];
    for (const value of cases) expect(canonicalJson(value)).toBe(reference(value));
  });
});
