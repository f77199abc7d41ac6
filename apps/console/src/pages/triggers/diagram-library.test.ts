import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildDiagram } from './diagram';

const LIBRARY = join(__dirname, '../../../../../triggers/library');
const files = readdirSync(LIBRARY).filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml'));

/** Every step path of a document (nested steps too), as the trigger language names them. */
function stepPaths(steps: unknown, path = 'steps'): string[] {
  if (!Array.isArray(steps)) return [];
  return steps.flatMap((step: Record<string, Record<string, unknown>>, i) => {
    const p = `${path}[${i}]`;
    const kind = Object.keys(step)[0];
    const body = step[kind] ?? {};
    const nested =
      kind === 'branch'
        ? [...stepPaths(body.then, `${p}.branch.then`), ...stepPaths(body.else, `${p}.branch.else`)]
        : kind === 'wait'
          ? [...stepPaths(body.onEvent, `${p}.wait.onEvent`), ...stepPaths(body.onTimeout, `${p}.wait.onTimeout`)]
          : kind === 'split'
            ? (body.variants as { steps: unknown }[]).flatMap((v, j) => stepPaths(v.steps, `${p}.split.variants[${j}].steps`))
            : [];
    return [p, ...nested];
  });
}

describe('diagrams of the trigger library', () => {
  it('finds the library', () => expect(files.length).toBeGreaterThanOrEqual(5));

  it.each(files)('%s: a node per step, edges only downwards, no two nodes in one place, every node reachable', (file) => {
    const doc = parse(readFileSync(join(LIBRARY, file), 'utf8')) as { steps: unknown };
    const d = buildDiagram(doc);
    const ids = d.nodes.map((n) => n.id);
    expect(d.nodes.filter((n) => !['entry', 'end', 'skip'].includes(n.kind)).map((n) => n.id)).toEqual(stepPaths(doc.steps));
    expect(d.nodes.every((n) => n.kind !== 'unknown')).toBe(true);
    const byId = new Map(d.nodes.map((n) => [n.id, n]));
    for (const e of d.edges) expect(byId.get(e.target)!.row).toBeGreaterThan(byId.get(e.source)!.row);
    // an edge that skips rows (joining from a shorter arm) runs down its own lane: no node between in that column
    for (const e of d.edges) {
      const [from, to] = [byId.get(e.source)!, byId.get(e.target)!];
      const between = d.nodes.filter((n) => n.row > from.row && n.row < to.row && Math.abs(n.col - from.col) < 0.85);
      expect(between.map((n) => n.id)).toEqual([]);
    }
    expect(new Set(d.nodes.map((n) => `${n.col},${n.row}`)).size).toBe(d.nodes.length);
    const reached = new Set(['entry']);
    for (const e of d.edges) if (reached.has(e.source)) reached.add(e.target);
    expect([...reached].sort()).toEqual([...ids].sort());
    for (const n of d.nodes) {
      expect(n.col).toBeGreaterThanOrEqual(0);
      expect(n.col).toBeLessThanOrEqual(d.width - 1);
      expect(n.row).toBeLessThan(d.height);
    }
  });
});
