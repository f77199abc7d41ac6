import { LineCounter, parseDocument } from 'yaml';
import { TRIGGER_VALIDATION } from '@journey/messaging';
import { locate, validateTriggerDocument } from './trigger-validation';

/** Where `locate` points, as `line:column` and the text there. */
function at(text: string, path: string): string {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const range = locate(doc.contents, path);
  if (!range) return 'nowhere';
  const { line, col } = lineCounter.linePos(range[0]);
  return `${line}:${col} ${text.slice(range[0], range[1])}`;
}

const DOC = `id: t
name: T
entry:
  event: Plan Upgraded
  where:
    properties.plan: pro
steps:
  - wait: { duration: soon }
  - branch:
      if: { traits: { plan: pro } }
      then:
        - send: { channel: inbox }
`;

describe('locating trigger language paths in YAML', () => {
  it('points at a bad scalar value', () => {
    expect(at(DOC, 'steps[0].wait.duration')).toBe('8:23 soon');
    expect(at(DOC, 'name')).toBe('2:7 T');
  });

  it('matches keys that hold dots as written (property filters)', () => {
    expect(at(DOC, 'entry.where.properties.plan')).toBe('6:22 pro');
  });

  it('points at the key of the deepest existing part for a missing field', () => {
    expect(at(DOC, 'steps[1].branch.then[0].send.body')).toBe('12:11 send');
    expect(at(DOC, 'steps[1].branch.else')).toBe('9:5 branch');
  });

  it('points at a sequence item, and at the key holding a block value', () => {
    expect(at(DOC, 'steps[1]')).toMatch(/^9:5 branch:/);
    expect(at(DOC, 'entry')).toBe('3:1 entry');
    expect(at(DOC, 'steps[7]')).toBe('7:1 steps');
  });

  it('validates as deploying would, with lines, and without them for a parsed (JSON) document', () => {
    const report = validateTriggerDocument(DOC, TRIGGER_VALIDATION);
    expect(report.valid).toBe(false);
    expect(report.errors.map((e) => [e.path, e.line])).toEqual([
      ['steps[0].wait.duration', 8],
      ['steps[1].branch.then[0].send.body', 12],
    ]);
    expect(validateTriggerDocument({ id: 'x' }, TRIGGER_VALIDATION).errors[0]).toMatchObject({ path: 'name', line: null });
    expect(
      validateTriggerDocument(DOC.replace('soon', '3d').replace('{ channel: inbox }', '{ channel: inbox, body: Hi }'), TRIGGER_VALIDATION),
    ).toEqual({
      valid: true,
      errors: [],
    });
  });

  it('refuses aliases that expand past the limit, as an error rather than a crash', () => {
    const laughs = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...Array.from({ length: 8 }, (_, i) => `${'bcdefghi'[i]}: &${'bcdefghi'[i]} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`),
    ].join('\n');
    const report = validateTriggerDocument(laughs, TRIGGER_VALIDATION);
    expect(report).toMatchObject({ valid: false, errors: [{ path: '', line: 1, message: expect.stringMatching(/^not valid YAML: /) }] });
  });

  it('reports a YAML syntax error (a duplicate key too) at its position', () => {
    const report = validateTriggerDocument('id: a\nid: b\n', TRIGGER_VALIDATION);
    expect(report).toMatchObject({ valid: false, errors: [{ path: '', line: 2, message: expect.stringMatching(/^not valid YAML: /) }] });
  });
});
