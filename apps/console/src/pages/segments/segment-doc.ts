import { LineCounter, parseDocument, stringify } from 'yaml';

/** A segment's definition as the engine keeps it (GET /v1/segments/:id `definition`). */
export interface SegmentDefinition {
  id?: string;
  name: string;
  description?: string;
  conditions: Record<string, unknown>;
}

/** A problem in the document, at a line (1-based) when known. */
export interface DocProblem {
  message: string;
  line?: number;
  /** Character offsets in the text, for the editor's underline. */
  from: number;
  to: number;
}

/** Letters, digits, - and _, at most 64: the engine's rule for ids. */
export const SEGMENT_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function checkSegmentId(id: string): string | undefined {
  if (!id.trim()) return 'the id is required (letters, digits, - and _)';
  if (!SEGMENT_ID.test(id)) return `"${id}" is not an id: use letters, digits, - and _ (at most 64)`;
  return undefined;
}

export const NEW_SEGMENT_YAML = `name: Pro customers
description: Customers on the pro plan
conditions:
  traits: { plan: pro }
`;

/** The definition as YAML for the editor (the id is the page's, so it is left out). */
export function definitionToYaml(definition: SegmentDefinition): string {
  const { id: _id, ...rest } = definition;
  void _id;
  return stringify(rest, { lineWidth: 0 });
}

/**
 * Parses the editor's text: the document (an object) or the YAML syntax errors at their lines. The engine validates
 * the conditions; this only catches what cannot be sent at all.
 */
export function parseSegmentYaml(text: string): { ok: true; value: Record<string, unknown> } | { ok: false; problems: DocProblem[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length)
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        message: e.message.split('\n')[0],
        line: lineCounter.linePos(e.pos[0]).line,
        from: e.pos[0],
        to: Math.max(e.pos[1], e.pos[0] + 1),
      })),
    };
  const value: unknown = doc.toJS();
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, problems: [{ message: 'the document must be a mapping: name, description, conditions', line: 1, from: 0, to: 1 }] };
  return { ok: true, value: value as Record<string, unknown> };
}

/** `conditions.all[1].count.within` → ['conditions', 'all', 1, 'count', 'within']. */
export function parsePath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return out;
}

/**
 * The engine's 400 `errors` (each `path: what is wrong`) placed at the line of the YAML node they name (the nearest
 * ancestor that exists in the text; line 1 when none does).
 */
export function locateErrors(text: string, errors: readonly string[]): DocProblem[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  return errors.map((message) => {
    const m = /^([A-Za-z0-9_[\].-]+): /.exec(message);
    let path = m ? parsePath(m[1]) : [];
    while (path.length) {
      const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) {
        // a scalar's own range; for a mapping or a list, the key's line is where the reader looks
        const pair = findKeyOffset(doc, path);
        const from = pair ?? node.range[0];
        const to = pair !== undefined ? pair + String(path[path.length - 1]).length : Math.max(node.range[1], from + 1);
        return { message, line: lineCounter.linePos(from).line, from, to };
      }
      path = path.slice(0, -1);
    }
    return { message, line: 1, from: 0, to: Math.min(1, text.length) };
  });
}

function findKeyOffset(doc: ReturnType<typeof parseDocument>, path: (string | number)[]): number | undefined {
  const last = path[path.length - 1];
  if (typeof last !== 'string') return undefined;
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  const items = (parent as { items?: { key?: { value?: unknown; range?: [number, number, number] } }[] } | null)?.items;
  const pair = items?.find((p) => p.key && typeof p.key === 'object' && p.key.value === last);
  return pair?.key?.range?.[0];
}

/** The `errors` list of an engine 400 body, or its message alone. */
export function errorsOf(body: unknown, fallback: string): string[] {
  const b = body as { errors?: unknown } | undefined;
  if (b && Array.isArray(b.errors) && b.errors.length) return b.errors.map(String);
  return [fallback];
}
