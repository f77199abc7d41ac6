import { Background, MarkerType, Position, ReactFlow, type Edge, type Node } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { bendPosition, buildDiagram, NODE_HEIGHT, pixelPosition, type Diagram, type DiagramNode } from './diagram';
import { tryParse } from './document';

const NODE_WIDTH = 220;

/** The Diagram tab: the document as typed (or, while it does not parse, the saved one) drawn top to bottom. */
export function DiagramTab({ draft, saved }: { draft: string; saved?: string }) {
  const parsed = tryParse(draft);
  const usable = parsed !== undefined && parsed !== null && typeof parsed === 'object';
  const source = usable ? parsed : saved !== undefined ? tryParse(saved) : undefined;
  const diagram = buildDiagram(source);
  return (
    <section aria-labelledby="diagram-heading">
      <h2 id="diagram-heading">Diagram</h2>
      {!usable ? (
        <p className="notice">The document does not parse as YAML yet{saved !== undefined ? ': the saved version is shown' : ''}.</p>
      ) : null}
      <TriggerDiagram diagram={diagram} />
      <h3 id="outline-heading">Steps in order</h3>
      <ol aria-labelledby="outline-heading" className="diagram-outline">
        {diagram.nodes
          .filter((n) => n.kind !== 'skip')
          .map((n) => (
            <li key={n.id}>
              <span className={`kind kind-${n.kind}`}>{n.kind}</span> {n.label}{' '}
              {n.id !== 'entry' && n.id !== 'end' && n.kind !== 'skip' ? <code className="muted">{n.id}</code> : null}
              {outgoing(diagram, n)}
            </li>
          ))}
      </ol>
    </section>
  );
}

function outgoing(diagram: Diagram, node: DiagramNode) {
  const out = diagram.edges.filter((e) => e.source === node.id && e.label);
  if (!out.length) return null;
  const labelOf = (id: string): string => {
    const target = diagram.nodes.find((n) => n.id === id);
    if (target?.kind !== 'skip') return target?.label ?? id;
    const next = diagram.edges.find((e) => e.source === id);
    return `no steps, then ${next ? labelOf(next.target) : 'end'}`;
  };
  return <span className="muted"> — {out.map((e) => `${e.label} → ${labelOf(e.target)}`).join('; ')}</span>;
}

export function TriggerDiagram({ diagram }: { diagram: Diagram }) {
  const nodes: Node[] = diagram.nodes.map((n) => ({
    id: n.id,
    position: pixelPosition(n),
    data: { label: n.label },
    type: n.kind === 'entry' ? 'input' : n.kind === 'end' || n.kind === 'exit' ? 'output' : 'default',
    className: `flow-node kind-${n.kind}`,
    sourcePosition: Position.Bottom,
    targetPosition: Position.Top,
    style: { width: NODE_WIDTH, height: NODE_HEIGHT },
    draggable: false,
    connectable: false,
    selectable: false,
  }));
  const rows = new Map(diagram.nodes.map((n) => [n.id, n.row]));
  const edges: Edge[] = diagram.edges.map((e) => ({
    id: e.id,
    pathOptions: { stepPosition: bendPosition(rows.get(e.source) ?? 0, rows.get(e.target) ?? 1) },
    source: e.source,
    target: e.target,
    label: e.label,
    type: 'smoothstep',
    markerEnd: { type: MarkerType.ArrowClosed },
    focusable: false,
  }));
  const steps = diagram.nodes.filter((n) => n.kind !== 'entry' && n.kind !== 'end' && n.kind !== 'skip').length;
  const summary = `Diagram of the trigger: the entry and ${steps} ${steps === 1 ? 'step' : 'steps'}, top to bottom; the same steps are listed below.`;
  return (
    <div className="diagram" role="img" aria-label={summary} style={{ height: Math.min(720, 120 + diagram.height * 100) }}>
      <ReactFlow
        nodes={nodes}
        edges={edges}
        fitView
        nodesDraggable={false}
        nodesConnectable={false}
        nodesFocusable={false}
        edgesFocusable={false}
        elementsSelectable={false}
        panOnScroll
        zoomOnScroll={false}
        proOptions={{ hideAttribution: true }}
      >
        <Background />
      </ReactFlow>
    </div>
  );
}
