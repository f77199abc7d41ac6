import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { bendPosition, buildDiagram, describeSignal, pixelPosition } from './diagram';

const TRIAGE = parse(`
id: support-reply-triage
name: Support reply triage
entry:
  reply: {}
steps:
  - branch:
      if: { reply: { sentiment: { lt: -0.3 } } }
      then:
        - tag: { tags: [unhappy] }
        - handoff: { team: support, priority: high }
      else:
        - reply: { body: "Glad we could help!" }
        - resolve: {}
  - send: { channel: inbox, body: Bye }
`);

describe('the trigger diagram', () => {
  it('has the entry, every step (nested too) and an end, with edges in the order a run takes them', () => {
    const d = buildDiagram(TRIAGE);
    expect(d.nodes.map((n) => [n.id, n.kind])).toEqual([
      ['entry', 'entry'],
      ['steps[0]', 'branch'],
      ['steps[0].branch.then[0]', 'tag'],
      ['steps[0].branch.then[1]', 'handoff'],
      ['steps[0].branch.else[0]', 'reply'],
      ['steps[0].branch.else[1]', 'resolve'],
      ['steps[1]', 'send'],
      ['end', 'end'],
    ]);
    expect(d.edges.map((e) => `${e.source} -> ${e.target}${e.label ? ` [${e.label}]` : ''}`)).toEqual([
      'entry -> steps[0]',
      'steps[0] -> steps[0].branch.then[0] [then]',
      'steps[0].branch.then[0] -> steps[0].branch.then[1]',
      'steps[0] -> steps[0].branch.else[0] [else]',
      'steps[0].branch.else[0] -> steps[0].branch.else[1]',
      'steps[0].branch.then[1] -> steps[1]',
      'steps[0].branch.else[1] -> steps[1]',
      'steps[1] -> end',
    ]);
    expect(d.nodes.find((n) => n.id === 'steps[0].branch.then[1]')?.label).toBe('handoff to support (high)');
    expect(d.nodes[0].label).toBe('entry: customer replied');
    expect(d.nodes[1].label).toBe('if customer replied sentiment < -0.3');
    expect(describeSignal({ reply: { channel: ['email', 'inbox'], contains: ['refund', 'cancel'] } })).toBe(
      'customer replied on email or inbox, with “refund, cancel”',
    );
  });

  it('lays out top to bottom: arms side by side, a branch centred over them, what follows below the longest arm', () => {
    const d = buildDiagram(TRIAGE);
    const at = (id: string) => d.nodes.find((n) => n.id === id)!;
    expect(d.width).toBe(2);
    expect([at('entry').col, at('entry').row]).toEqual([0.5, 0]);
    expect([at('steps[0]').col, at('steps[0]').row]).toEqual([0.5, 1]);
    expect([at('steps[0].branch.then[0]').col, at('steps[0].branch.then[0]').row]).toEqual([0, 2]);
    expect([at('steps[0].branch.else[1]').col, at('steps[0].branch.else[1]').row]).toEqual([1, 3]);
    expect([at('steps[1]').col, at('steps[1]').row]).toEqual([0.5, 4]);
    expect(at('end').row).toBe(5);
    expect(d.height).toBe(6);
    // every edge goes down
    const rows = new Map(d.nodes.map((n) => [n.id, n.row]));
    for (const e of d.edges) expect(rows.get(e.target)!).toBeGreaterThan(rows.get(e.source)!);
    // no two nodes at the same place
    const places = d.nodes.map((n) => `${n.col},${n.row}`);
    expect(new Set(places).size).toBe(places.length);
    expect(pixelPosition(at('steps[1]'))).toEqual({ x: 130, y: 400 });
    // edges bend in the gap above their target: halfway between adjacent rows, near the target when they skip rows
    expect(bendPosition(1, 2)).toBe(0.5);
    const long = bendPosition(1, 4);
    const bendAt = 1 * 100 + 56 + long * (3 * 100 - 56);
    expect(bendAt).toBeGreaterThan(3 * 100 + 56);
    expect(bendAt).toBeLessThan(4 * 100);
  });

  it('draws a split per variant, waits with their arms, an empty arm straight to what follows, and exit as an end', () => {
    const d = buildDiagram({
      entry: { absent: { event: 'Activated', for: '3d', after: { event: 'Signed Up' } } },
      steps: [
        {
          split: {
            holdout: 10,
            variants: [
              { name: 'a', weight: 50, steps: [{ send: { channel: 'email', subject: 'Hi', body: 'x' } }] },
              { name: 'b', weight: 50, steps: [] },
            ],
          },
        },
        { wait: { until: { event: 'Replied' }, timeout: '2d', onTimeout: [{ exit: { reason: 'silent' } }] } },
        { handoff: { team: 'cs' } },
      ],
    });
    expect(d.nodes[0].label).toBe('entry: no "Activated" for 3d after "Signed Up"');
    expect(d.nodes.find((n) => n.id === 'steps[0]')?.label).toBe('split a 50, b 50 · holdout 10%');
    const edges = d.edges.map((e) => `${e.source} -> ${e.target}${e.label ? ` [${e.label}]` : ''}`);
    expect(edges).toEqual([
      'entry -> steps[0]',
      'steps[0] -> steps[0].split.variants[0].steps[0] [a (50)]',
      'steps[0] -> steps[0].split.variants[1].steps [b (50)]',
      'steps[0].split.variants[0].steps[0] -> steps[1]',
      'steps[0].split.variants[1].steps -> steps[1]',
      'steps[1] -> steps[1].wait.onEvent [on event]',
      'steps[1] -> steps[1].wait.onTimeout[0] [on timeout]',
      'steps[1].wait.onEvent -> steps[2]',
      'steps[2] -> end',
    ]);
    expect(d.nodes.find((n) => n.id === 'steps[1].wait.onTimeout[0]')).toMatchObject({ kind: 'exit', label: 'exit (silent)' });
    // the empty arms: placeholders in their own lanes, beside the other arm
    const at = (id: string) => d.nodes.find((n) => n.id === id)!;
    expect(at('steps[0].split.variants[1].steps')).toMatchObject({ kind: 'skip', col: 1, row: 2 });
    expect(at('steps[0].split.variants[0].steps[0]')).toMatchObject({ col: 0, row: 2 });
    expect(at('steps[1].wait.onEvent')).toMatchObject({ kind: 'skip', col: 0 });
    expect(at('steps[1].wait.onTimeout[0]')).toMatchObject({ col: 1 });
  });

  it('tolerates a half-typed document', () => {
    expect(buildDiagram(undefined).nodes.map((n) => n.id)).toEqual(['entry', 'end']);
    const d = buildDiagram({ entry: 'x', steps: [null, { frob: 1 }, { branch: { if: null, then: 'no' } }] });
    expect(d.nodes.map((n) => n.kind)).toEqual(['entry', 'unknown', 'unknown', 'branch', 'skip', 'skip', 'end']);
    expect(describeSignal({ all: [{ event: 'a' }, { event: 'b' }] })).toBe('all of (2)');
  });
});
