import { Background, MarkerType, Position, ReactFlow, type Edge, type Node } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { buildDiagram, pixelPosition, type Diagram, type DiagramNode } from './diagram';
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
        {diagram.nodes.map((n) => (
          <li key={n.id}>
            <span className={`kind kind-${n.kind}`}>{n.kind}</span> {n.label}{' '}
            {n.id !== 'entry' && n.id !== 'end' ? <code className="muted">{n.id}</code> : null}
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
  return (
    <span className="muted">
      {' '}
      — {out.map((e) => `${e.label} → ${diagram.nodes.find((n) => n.id === e.target)?.label ?? e.target}`).join('; ')}
    </span>
  );
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
    style: { width: NODE_WIDTH },
    draggable: false,
    connectable: false,
    selectable: false,
  }));
  const edges: Edge[] = diagram.edges.map((e) => ({
    id: e.id,
    source: e.source,
    target: e.target,
    label: e.label,
    type: 'smoothstep',
    markerEnd: { type: MarkerType.ArrowClosed },
    focusable: false,
  }));
  const summary = `Diagram of the trigger: ${diagram.nodes.length} nodes from the entry to the end; the same steps are listed below.`;
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
