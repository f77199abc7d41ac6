/**
 * The engine's validation errors (POST /v1/triggers/validate) in the editor: CodeMirror diagnostics at their line and
 * column, and the same errors as a list below the editor ("line 5: steps[0].wait.duration: ...").
 */

export interface LocatedError {
  message: string;
  path: string;
  line: number | null;
  column: number | null;
  endLine?: number | null;
  endColumn?: number | null;
}

export interface ValidationReport {
  valid: boolean;
  errors: LocatedError[];
}

/** What a document's lines need to turn a line and column into an offset (a CodeMirror Text or a plain string). */
export interface Lines {
  lines: number;
  line(n: number): { from: number; to: number };
}

export function linesOf(text: string): Lines {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return {
    lines: starts.length,
    line: (n) => ({ from: starts[n - 1], to: n < starts.length ? starts[n] - 1 : text.length }),
  };
}

/** The offsets [from, to) an error covers: its range clamped to the document, at least one character when the line has one. */
export function errorRange(doc: Lines, e: LocatedError): { from: number; to: number } {
  const lineNo = Math.min(Math.max(e.line ?? 1, 1), doc.lines);
  const line = doc.line(lineNo);
  const from = Math.min(line.from + Math.max((e.column ?? 1) - 1, 0), line.to);
  let to = from;
  if (e.endLine != null && e.endColumn != null) {
    const endNo = Math.min(Math.max(e.endLine, 1), doc.lines);
    const end = doc.line(endNo);
    to = Math.min(end.from + Math.max(e.endColumn - 1, 0), end.to);
  }
  // a range that ends before it starts, or an empty one: the rest of the word on the line
  if (to <= from) to = Math.min(line.to, from + 1);
  if (to <= from && from > line.from) return { from: from - 1, to: from };
  return { from, to };
}

/** "line 5: steps[0].wait.duration: expected a duration like "3d", got "soon"". */
export function describeError(e: LocatedError): string {
  const where = e.line != null ? `line ${e.line}: ` : '';
  return `${where}${e.path ? `${e.path}: ` : ''}${e.message}`;
}

/** Errors in the order of the document (those without a line last). */
export function sortErrors(errors: LocatedError[]): LocatedError[] {
  return [...errors].sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0));
}

/** A 400 of POST/PUT /v1/triggers: its `errors` (strings, `path: expected ...`), else its message. */
export function saveErrors(body: unknown, fallback: string): string[] {
  if (body && typeof body === 'object' && Array.isArray((body as { errors?: unknown }).errors))
    return (body as { errors: unknown[] }).errors.map(String);
  return [fallback];
}
