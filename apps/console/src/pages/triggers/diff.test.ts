import { describe, expect, it } from 'vitest';
import { diffSummary, hunks, lineDiff } from './diff';

describe('line diff between versions', () => {
  it('marks added, removed and unchanged lines with their line numbers', () => {
    const d = lineDiff('a\nb\nc\nd\n', 'a\nB\nc\nd\ne\n');
    expect(d).toEqual([
      { type: 'same', text: 'a', oldLine: 1, newLine: 1 },
      { type: 'removed', text: 'b', oldLine: 2 },
      { type: 'added', text: 'B', newLine: 2 },
      { type: 'same', text: 'c', oldLine: 3, newLine: 3 },
      { type: 'same', text: 'd', oldLine: 4, newLine: 4 },
      { type: 'added', text: 'e', newLine: 5 },
    ]);
    expect(diffSummary(d)).toEqual({ added: 2, removed: 1 });
  });

  it('finds the longest common subsequence (a moved line is one removal and one addition)', () => {
    const d = lineDiff('x\ny\nz', 'y\nz\nx');
    expect(d.filter((l) => l.type !== 'same').map((l) => `${l.type} ${l.text}`)).toEqual(['removed x', 'added x']);
    expect(lineDiff('same', 'same').every((l) => l.type === 'same')).toBe(true);
    expect(lineDiff('', 'new').map((l) => l.type)).toEqual(['removed', 'added']);
  });

  it('cuts hunks with context around the changes', () => {
    const before = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join('\n');
    const after = before.replace('line 3', 'line three').replace('line 18', 'line eighteen');
    const h = hunks(lineDiff(before, after), 2);
    expect(h).toHaveLength(2);
    expect(h[0].lines.map((l) => l.text)).toEqual(['line 1', 'line 2', 'line 3', 'line three', 'line 4', 'line 5']);
    expect(h[1].lines[0]).toMatchObject({ type: 'same', text: 'line 16', oldLine: 16 });
    expect(hunks(lineDiff(before, before))).toEqual([]);
  });
});
