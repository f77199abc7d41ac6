/** A unified line diff between two texts (longest common subsequence of lines), for the versions tab. */

export interface DiffLine {
  type: 'same' | 'added' | 'removed';
  text: string;
  /** 1-based line in the old text (removed, same) and in the new one (added, same). */
  oldLine?: number;
  newLine?: number;
}

export function lineDiff(before: string, after: string): DiffLine[] {
  const a = before.split('\n');
  const b = after.split('\n');
  if (a[a.length - 1] === '' && b[b.length - 1] === '') {
    a.pop();
    b.pop();
  }
  // common prefix and suffix first: versions mostly differ in a few lines
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const n = midA.length;
  const m = midB.length;
  // lcs[i][j]: length of the LCS of midA[i..] and midB[j..]
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--) lcs[i][j] = midA[i] === midB[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out: DiffLine[] = [];
  for (let k = 0; k < start; k++) out.push({ type: 'same', text: a[k], oldLine: k + 1, newLine: k + 1 });
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && midA[i] === midB[j]) {
      out.push({ type: 'same', text: midA[i], oldLine: start + i + 1, newLine: start + j + 1 });
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      out.push({ type: 'removed', text: midA[i], oldLine: start + i + 1 });
      i++;
    } else {
      out.push({ type: 'added', text: midB[j], newLine: start + j + 1 });
      j++;
    }
  }
  for (let k = 0; k < a.length - endA; k++) out.push({ type: 'same', text: a[endA + k], oldLine: endA + k + 1, newLine: endB + k + 1 });
  return out;
}

export interface DiffHunk {
  lines: DiffLine[];
}

/** The changed lines with `context` unchanged lines around them, as hunks (nothing when the texts are the same). */
export function hunks(lines: DiffLine[], context = 3): DiffHunk[] {
  const keep = lines.map(() => false);
  lines.forEach((l, k) => {
    if (l.type === 'same') return;
    for (let c = Math.max(0, k - context); c <= Math.min(lines.length - 1, k + context); c++) keep[c] = true;
  });
  const out: DiffHunk[] = [];
  let current: DiffLine[] | undefined;
  lines.forEach((l, k) => {
    if (!keep[k]) {
      current = undefined;
      return;
    }
    if (!current) out.push({ lines: (current = []) });
    current.push(l);
  });
  return out;
}

export function diffSummary(lines: DiffLine[]): { added: number; removed: number } {
  return {
    added: lines.filter((l) => l.type === 'added').length,
    removed: lines.filter((l) => l.type === 'removed').length,
  };
}
