import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair } from 'yaml';
import { validateTrigger, type TriggerValidationError, type TriggerValidationPorts } from '@journey/domain';

/** One error of a trigger document, at its place in the text (1-based; null when the document came as JSON, without text). */
export interface LocatedTriggerError {
  message: string;
  /** The trigger language's path (`steps[0].wait.duration`; '' for the document itself or a YAML syntax error). */
  path: string;
  line: number | null;
  column: number | null;
  endLine: number | null;
  endColumn: number | null;
}

/** What `POST /v1/triggers/validate` answers: a document is valid when it would deploy (`POST`/`PUT /v1/triggers`). */
export interface TriggerValidationReport {
  valid: boolean;
  errors: LocatedTriggerError[];
}

const NOWHERE = { line: null, column: null, endLine: null, endColumn: null };

/**
 * Validates a trigger document as deploying it would, locating every error in the text: YAML syntax errors at their
 * position, the trigger language's errors (`path: expected ...`) at the node their path names (the key of an unknown
 * or missing field's nearest parent, the value of a bad scalar). `document` is YAML (or JSON) text, or an already
 * parsed JSON value (then without lines). `expectedId`: the trigger being edited (its id may not change).
 */
export function validateTriggerDocument(document: unknown, ports: TriggerValidationPorts, expectedId?: string): TriggerValidationReport {
  if (typeof document !== 'string') return report(languageErrors(document, ports, expectedId), () => NOWHERE);
  const lineCounter = new LineCounter();
  const doc = parseDocument(document, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const range = (start: number, end: number) => {
    const from = lineCounter.linePos(start);
    const to = lineCounter.linePos(Math.max(start, end));
    return { line: from.line, column: from.col, endLine: to.line, endColumn: to.col };
  };
  if (doc.errors.length)
    return {
      valid: false,
      errors: doc.errors.map((e) => ({
        message: `not valid YAML: ${e.message.split('\n')[0]}`,
        path: '',
        ...range(e.pos[0], e.pos[1]),
      })),
    };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // e.g. aliases expanding past the limit (a "billion laughs" document)
    return { valid: false, errors: [{ message: `not valid YAML: ${(error as Error).message.split('\n')[0]}`, path: '', ...range(0, 0) }] };
  }
  return report(languageErrors(value, ports, expectedId), (path) => {
    const [start, end] = locate(doc.contents, path) ?? [0, 0];
    return range(start, end);
  });
}

function languageErrors(document: unknown, ports: TriggerValidationPorts, expectedId?: string): TriggerValidationError[] {
  const result = validateTrigger(document, ports);
  if (!result.ok) return result.errors;
  if (expectedId !== undefined && result.definition.id !== expectedId)
    return [{ path: 'id', message: `expected "${expectedId}" (the trigger being edited), got "${result.definition.id}"` }];
  return [];
}

function report(errors: TriggerValidationError[], where: (path: string) => Omit<LocatedTriggerError, 'message' | 'path'>) {
  return { valid: errors.length === 0, errors: errors.map((e) => ({ message: e.message, path: e.path, ...where(e.path) })) };
}

type Range = [number, number];
const rangeOf = (node: Node | null | undefined): Range | undefined => (node?.range ? [node.range[0], node.range[1]] : undefined);

/**
 * The text range a trigger language path names, walking the YAML nodes: `[n]` indexes a sequence, a map's key is
 * matched as written (filter keys may hold dots: `where: { "properties.plan": pro }` is the path `entry.where.properties.plan`).
 * A path that goes beyond the document (a missing field) names its deepest existing part.
 */
export function locate(root: Node | null | undefined, path: string): Range | undefined {
  let node: Node | null | undefined = root;
  let pair: Pair | undefined;
  let rest = path;
  while (rest !== '' && node) {
    if (isSeq(node)) {
      const m = /^\[(\d+)\]\.?/.exec(rest);
      const item = m ? node.items[Number(m[1])] : undefined;
      if (!m || !item || typeof item !== 'object') break;
      node = item as Node;
      pair = undefined;
      rest = rest.slice(m[0].length);
    } else if (isMap(node)) {
      let best: Pair | undefined;
      let bestKey = '';
      for (const p of node.items) {
        if (!isPair(p)) continue;
        const key = isScalar(p.key) ? String(p.key.value) : String(p.key);
        if (key.length > bestKey.length && (rest === key || rest.startsWith(`${key}.`) || rest.startsWith(`${key}[`))) {
          best = p;
          bestKey = key;
        }
      }
      if (!best) break;
      pair = best;
      node = (best.value as Node | null) ?? undefined;
      rest = rest.slice(bestKey.length).replace(/^\./, '');
      if (!node) break;
    } else break;
  }
  const complete = rest === '';
  // a whole scalar value named by the path: the value; else the key that holds the named (or deepest) part
  if (complete && node && isScalar(node)) return rangeOf(node);
  if (pair) return rangeOf(pair.key as Node) ?? rangeOf(node);
  return rangeOf(node);
}
