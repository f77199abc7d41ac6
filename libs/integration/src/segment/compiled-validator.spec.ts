import 'reflect-metadata';
import { validateSync } from 'class-validator';
import { compileCheck } from './compiled-validator';
import { SEGMENT_CALL_CLASSES, SEGMENT_CALL_RULES } from './segment-calls';

const deep = (depth: number) => Array.from({ length: depth }).reduce<unknown>((inner) => ({ a: inner }), 1);
const VALUES = [
  undefined,
  null,
  '',
  'x',
  'x'.repeat(300),
  0,
  5,
  true,
  {},
  { a: 1 },
  [],
  ['a'],
  '2026-01-31T12:00:00Z',
  '2026-02-30T00:00:00Z',
  'yesterday',
  '2024-W01-1',
  'x\ud800',
  { k: 'x\udc00' },
  { a: { a: { a: 1 } } },
  deep(40),
  { n: Infinity },
];
const FIELDS = [
  'type',
  'userId',
  'anonymousId',
  'messageId',
  'timestamp',
  'context',
  'traits',
  'event',
  'properties',
  'name',
  'category',
  'groupId',
  'previousId',
];
const VALID: Record<string, Record<string, unknown>> = {
  identify: { type: 'identify', userId: 'u' },
  track: { type: 'track', userId: 'u', event: 'e' },
  page: { type: 'page', anonymousId: 'a' },
  screen: { type: 'screen', userId: 'u' },
  group: { type: 'group', userId: 'u', groupId: 'g' },
  alias: { type: 'alias', userId: 'u', previousId: 'p' },
};

describe('compileCheck', () => {
  it.each(Object.keys(VALID))('agrees with validateSync on %s calls, field by field and on both identities together', (type) => {
    const cls = SEGMENT_CALL_CLASSES[type as keyof typeof SEGMENT_CALL_CLASSES];
    const check = compileCheck(SEGMENT_CALL_RULES[type as keyof typeof SEGMENT_CALL_RULES]);
    const variants = [VALID[type]];
    for (const field of FIELDS) for (const value of VALUES) variants.push({ ...VALID[type], [field]: value });
    for (const userId of VALUES) for (const anonymousId of VALUES) variants.push({ ...VALID[type], userId, anonymousId });
    let invalid = 0;
    for (const variant of variants) {
      const call = Object.assign(new cls(), variant);
      const expected = validateSync(call).length === 0;
      if (!expected) invalid++;
      expect({ variant, valid: check(call) }).toEqual({ variant, valid: expected });
    }
    expect(invalid).toBeGreaterThan(variants.length / 4); // the corpus exercises the rules, not just valid calls
  });

  it.each(Object.keys(VALID))(
    'the %s DTO runs exactly the rules, in their order: validateSync reports the first failing check of each field',
    (type) => {
      const cls = SEGMENT_CALL_CLASSES[type as keyof typeof SEGMENT_CALL_CLASSES];
      const rules = SEGMENT_CALL_RULES[type as keyof typeof SEGMENT_CALL_RULES];
      for (const field of FIELDS) {
        for (const value of VALUES) {
          const call = Object.assign(new cls(), { ...VALID[type], [field]: value });
          const expected = Object.entries(rules).flatMap(([property, { when, checks }]) => {
            const v = (call as Record<string, unknown>)[property];
            if (when && !when(call, v)) return [];
            const failed = checks.find((c) => !c.test(v, call));
            return failed ? [[property, failed.name]] : [];
          });
          const reported = validateSync(call, { stopAtFirstError: true }).map((e) => [e.property, ...Object.keys(e.constraints ?? {})]);
          expect({ field, value, reported: reported.sort() }).toEqual({ field, value, reported: expected.sort() });
        }
      }
    },
  );
});
