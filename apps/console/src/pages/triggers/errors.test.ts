import { describe, expect, it } from 'vitest';
import { describeError, errorRange, linesOf, saveErrors, sortErrors } from './errors';
import { documentId, toYaml } from './document';

const DOC = 'id: t\nsteps:\n  - wait: { duration: soon }\n';

describe('validation errors in the editor', () => {
  it('maps line and column to the offsets of the text they name', () => {
    const lines = linesOf(DOC);
    const r = errorRange(lines, { message: 'bad', path: 'steps[0].wait.duration', line: 3, column: 23, endLine: 3, endColumn: 27 });
    expect(DOC.slice(r.from, r.to)).toBe('soon');
  });

  it('clamps a range outside the document and never answers an empty one on a non-empty line', () => {
    const lines = linesOf(DOC);
    const past = errorRange(lines, { message: 'x', path: '', line: 99, column: 1 });
    expect(past.from).toBeLessThanOrEqual(DOC.length);
    const noLine = errorRange(lines, { message: 'x', path: 'name', line: null, column: null });
    expect(DOC.slice(noLine.from, noLine.to)).toBe('i');
    const endOfLine = errorRange(lines, { message: 'x', path: '', line: 1, column: 40 });
    expect(DOC.slice(endOfLine.from, endOfLine.to)).toBe('t');
  });

  it('describes errors with their line, sorted as the document reads', () => {
    const errors = [
      { message: 'is required', path: 'name', line: null, column: null },
      { message: 'expected a duration like "3d", got "soon"', path: 'steps[0].wait.duration', line: 3, column: 23 },
      { message: 'unknown field', path: 'frob', line: 1, column: 1 },
    ];
    expect(sortErrors(errors).map(describeError)).toEqual([
      'line 1: frob: unknown field',
      'line 3: steps[0].wait.duration: expected a duration like "3d", got "soon"',
      'name: is required',
    ]);
    expect(saveErrors({ errors: ['id: expected x'] }, 'fallback')).toEqual(['id: expected x']);
    expect(saveErrors({ message: 'm' }, 'fallback')).toEqual(['fallback']);
  });

  it('turns a definition into YAML that names its id', () => {
    const yaml = toYaml({ id: 'nudge', name: 'Nudge', steps: [{ wait: { duration: '1d' } }] });
    expect(yaml).toContain('- wait:\n      duration: 1d');
    expect(documentId(yaml)).toBe('nudge');
    expect(documentId('id: [unclosed')).toBeUndefined();
  });
});
