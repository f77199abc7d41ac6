/**
 * A trigger document as a diagram: the entry and every step (nested ones too) as nodes, with edges in the order a run
 * takes them, laid out top to bottom. Pure: it tolerates a half-typed document (whatever is not a step is left out).
 */

export type NodeKind =
  | 'entry'
  | 'wait'
  | 'branch'
  | 'split'
  | 'send'
  | 'handoff'
  | 'task'
  | 'exit'
  | 'end'
  /** An empty arm (a branch's `else` with no steps): the run goes straight on. */
  | 'skip'
  | 'set'
  | 'emit'
  | 'tag'
  | 'reply'
  | 'resolve'
  | 'webhook'
  | 'unknown';

export interface DiagramNode {
  /** The step's path in the trigger language (`steps[1].branch.then[0]`), `entry` or `end`. */
  id: string;
  kind: NodeKind;
  label: string;
  /** Grid position: column (may be fractional: a node centred over its arms) and row. */
  col: number;
  row: number;
}

export interface DiagramEdge {
  id: string;
  source: string;
  target: string;
  label?: string;
}

export interface Diagram {
  nodes: DiagramNode[];
  edges: DiagramEdge[];
  /** Columns and rows used. */
  width: number;
  height: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const asSteps = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const text = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));
const short = (s: string, n = 48) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** A signal in a few words: `event "Signed Up"`, `no "Activated" for 3d after "Signed Up"`, `all of (2)`. */
export function describeSignal(signal: unknown): string {
  if (!isObj(signal)) return 'no condition';
  if ('event' in signal) return `event "${text(signal.event)}"${isObj(signal.where) ? ' where …' : ''}`;
  const kind = Object.keys(signal)[0];
  const body = signal[kind];
  const b = isObj(body) ? body : {};
  switch (kind) {
    case 'absent':
      return `no "${text(b.event)}" for ${text(b.for)} after "${text(isObj(b.after) ? b.after.event : '')}"`;
    case 'inactive':
      return `inactive for ${text(b.for)}`;
    case 'count':
      return `count of "${text(b.event)}" within ${text(b.within)}`;
    case 'sum':
      return `sum of ${text(b.property)} of "${text(b.event)}" within ${text(b.within)}`;
    case 'usageDrop':
      return `usage drop below ${text(b.below)} over ${text(b.window)}`;
    case 'date':
      return `${text(b.offset)} from ${b.trait !== undefined ? `trait ${text(b.trait)}` : `"${text(b.event)}".${text(b.property)}`}`;
    case 'stage':
      return b.entered !== undefined ? `stage entered ${text(b.entered)}` : `stage left ${text(b.left)}`;
    case 'inStage':
      return `in stage ${Array.isArray(body) ? body.map(text).join(' or ') : text(body)}`;
    case 'trait':
      return `trait ${text(b.name)} changed`;
    case 'traits':
      return `traits ${Object.keys(b).join(', ')}`;
    case 'reply': {
      const words = Array.isArray(b.contains) ? b.contains.map(text).join(', ') : b.contains !== undefined ? text(b.contains) : '';
      const sentiment = isObj(b.sentiment)
        ? Object.entries(b.sentiment)
            .map(([op, v]) => `${{ lt: '<', lte: '≤', gt: '>', gte: '≥' }[op] ?? op} ${text(v)}`)
            .join(' and ')
        : '';
      const parts = [
        b.channel !== undefined ? `on ${Array.isArray(b.channel) ? b.channel.map(text).join(' or ') : text(b.channel)}` : '',
        words ? `with “${short(words, 32)}”` : '',
        sentiment ? `sentiment ${sentiment}` : '',
      ].filter(Boolean);
      return `customer replied${parts.length ? ` ${parts.join(', ')}` : ''}`;
    }
    case 'segment':
      return b.entered !== undefined ? `entered segment ${text(b.entered)}` : `left segment ${text(b.left)}`;
    case 'inSegment':
      return `in segment ${Array.isArray(body) ? body.map(text).join(' or ') : text(body)}`;
    case 'account':
      return `account ${Object.keys(b).join(', ')}`;
    case 'all':
    case 'any':
      return `${kind} of (${asSteps(body).length})`;
    case 'not':
      return `not ${describeSignal(body)}`;
    default:
      return kind ?? 'no condition';
  }
}

const KINDS: readonly NodeKind[] = [
  'wait',
  'branch',
  'split',
  'send',
  'handoff',
  'task',
  'exit',
  'set',
  'emit',
  'tag',
  'reply',
  'resolve',
  'webhook',
];

function stepKind(step: unknown): { kind: NodeKind; body: Obj } {
  if (!isObj(step)) return { kind: 'unknown', body: {} };
  const key = Object.keys(step)[0];
  const kind = KINDS.includes(key as NodeKind) ? (key as NodeKind) : 'unknown';
  return { kind, body: isObj(step[key]) ? step[key] : {} };
}

/** A step in a few words. */
export function describeStep(step: unknown): string {
  const { kind, body } = stepKind(step);
  switch (kind) {
    case 'wait':
      return 'until' in body ? `wait until ${describeSignal(body.until)} (timeout ${text(body.timeout)})` : `wait ${text(body.duration)}`;
    case 'branch':
      return `if ${describeSignal(body.if)}`;
    case 'split': {
      const variants = asSteps(body.variants)
        .map((v) => (isObj(v) ? `${text(v.name)} ${text(v.weight)}` : ''))
        .join(', ');
      return `split ${variants}${body.holdout !== undefined ? ` · holdout ${text(body.holdout)}%` : ''}`;
    }
    case 'send':
      return short(`send ${text(body.channel)}: ${text(body.subject) || text(body.body)}`);
    case 'handoff':
      return `handoff to ${text(body.team)}${body.priority !== undefined ? ` (${text(body.priority)})` : ''}`;
    case 'task':
      return short(`task: ${text(body.title)}`);
    case 'exit':
      return `exit${body.reason !== undefined ? ` (${text(body.reason)})` : ''}`;
    case 'set':
      return body.stage !== undefined
        ? `set stage ${text(body.stage)}`
        : `set traits ${Object.keys(isObj(body.traits) ? body.traits : {}).join(', ')}`;
    case 'emit':
      return `emit "${text(body.event)}"`;
    case 'tag':
      return `tag ${asSteps(body.tags).map(text).join(', ')}`;
    case 'reply':
      return short(`reply: ${text(body.body)}`);
    case 'resolve':
      return 'resolve the conversation';
    case 'webhook':
      return short(`webhook ${text(body.method) || 'POST'} ${text(body.url)}`);
    default:
      return short(`unknown step ${text(isObj(step) ? Object.keys(step).join(', ') : step)}`);
  }
}

interface Arm {
  label: string;
  steps: unknown[];
  path: string;
}

/** The arms a step holds (a branch's then/else, a wait's onEvent/onTimeout, a split's variants); none for a plain step. */
function armsOf(step: unknown, path: string): Arm[] {
  const { kind, body } = stepKind(step);
  if (kind === 'branch')
    return [
      { label: 'then', steps: asSteps(body.then), path: `${path}.branch.then` },
      { label: 'else', steps: asSteps(body.else), path: `${path}.branch.else` },
    ];
  if (kind === 'wait' && 'until' in body)
    return [
      { label: 'on event', steps: asSteps(body.onEvent), path: `${path}.wait.onEvent` },
      { label: 'on timeout', steps: asSteps(body.onTimeout), path: `${path}.wait.onTimeout` },
    ];
  if (kind === 'split')
    return asSteps(body.variants).map((v, j) => ({
      label: isObj(v) ? `${text(v.name)} (${text(v.weight)})` : `variant ${j + 1}`,
      steps: isObj(v) ? asSteps(v.steps) : [],
      path: `${path}.split.variants[${j}].steps`,
    }));
  return [];
}

/** Columns a sequence of steps needs: the widest of its steps. */
function seqWidth(steps: unknown[], path: string): number {
  return steps.reduce<number>((w, s, i) => Math.max(w, stepWidth(s, `${path}[${i}]`)), 1);
}

function stepWidth(step: unknown, path: string): number {
  const arms = armsOf(step, path);
  return arms.length === 0 ? 1 : arms.reduce((w, a) => w + seqWidth(a.steps, a.path), 0);
}

interface Pending {
  id: string;
  label?: string;
}

/** Builds the diagram of a (possibly half-typed) trigger document. */
export function buildDiagram(document: unknown): Diagram {
  const doc = isObj(document) ? document : {};
  const nodes: DiagramNode[] = [];
  const edges: DiagramEdge[] = [];
  const steps = asSteps(doc.steps);
  const width = seqWidth(steps, 'steps');
  const centre = (left: number, w: number) => left + (w - 1) / 2;
  const connect = (from: Pending[], to: string) => {
    for (const p of from) edges.push({ id: `${p.id}->${to}`, source: p.id, target: to, ...(p.label ? { label: p.label } : {}) });
  };

  nodes.push({ id: 'entry', kind: 'entry', label: `entry: ${describeSignal(doc.entry)}`, col: centre(0, width), row: 0 });

  /** Places a sequence in columns [left, left + w) from `row`; answers the open ends and the next free row. */
  const placeSeq = (seq: unknown[], path: string, left: number, w: number, row: number, from: Pending[]) => {
    let open = from;
    let r = row;
    seq.forEach((step, i) => {
      const placed = placeStep(step, `${path}[${i}]`, left, w, r, open);
      open = placed.open;
      r = placed.row;
    });
    return { open, row: r };
  };

  const placeStep = (step: unknown, path: string, left: number, w: number, row: number, from: Pending[]) => {
    const { kind } = stepKind(step);
    nodes.push({ id: path, kind, label: describeStep(step), col: centre(left, w), row });
    connect(from, path);
    if (kind === 'exit') return { open: [] as Pending[], row: row + 1 };
    const arms = armsOf(step, path);
    if (arms.length === 0) return { open: [{ id: path }], row: row + 1 };
    const total = arms.reduce((t, a) => t + seqWidth(a.steps, a.path), 0);
    let armLeft = left + (w - total) / 2;
    let next = row + 1;
    const open: Pending[] = [];
    for (const arm of arms) {
      const aw = seqWidth(arm.steps, arm.path);
      if (arm.steps.length === 0) {
        // a placeholder in the arm's own lane, so that no edge crosses another arm's steps
        nodes.push({ id: arm.path, kind: 'skip', label: 'no steps', col: centre(armLeft, aw), row: row + 1 });
        connect([{ id: path, label: arm.label }], arm.path);
        open.push({ id: arm.path });
        next = Math.max(next, row + 2);
      } else {
        const placed = placeSeq(arm.steps, arm.path, armLeft, aw, row + 1, [{ id: path, label: arm.label }]);
        open.push(...placed.open);
        next = Math.max(next, placed.row);
      }
      armLeft += aw;
    }
    return { open, row: next };
  };

  const placed = placeSeq(steps, 'steps', 0, width, 1, [{ id: 'entry' }]);
  let height = placed.row;
  if (placed.open.length) {
    nodes.push({ id: 'end', kind: 'end', label: 'end', col: centre(0, width), row: placed.row });
    connect(placed.open, 'end');
    height += 1;
  }
  return { nodes, edges, width, height };
}

export const SPACING = { x: 260, y: 100 };
export const NODE_HEIGHT = 56;

/** Pixel positions of the grid (React Flow's top-left corners), top to bottom. */
export function pixelPosition(node: DiagramNode, spacing = SPACING): { x: number; y: number } {
  return { x: Math.round(node.col * spacing.x), y: node.row * spacing.y };
}

/**
 * Where an edge bends (React Flow's smooth step `stepPosition`, 0 at the source to 1 at the target): in the gap just
 * above the target row, so that an edge joining from a shorter arm runs down its own lane and turns below every step
 * it passes, never through one.
 */
export function bendPosition(sourceRow: number, targetRow: number, spacing = SPACING, nodeHeight = NODE_HEIGHT): number {
  const span = (targetRow - sourceRow) * spacing.y - nodeHeight;
  const gap = spacing.y - nodeHeight;
  if (span <= gap) return 0.5;
  return (span - gap / 2) / span;
}
