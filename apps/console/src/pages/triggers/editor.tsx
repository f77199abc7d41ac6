import { yaml } from '@codemirror/lang-yaml';
import { linter, lintGutter, type Diagnostic } from '@codemirror/lint';
import { EditorView } from '@codemirror/view';
import CodeMirror from '@uiw/react-codemirror';
import { useEffect, useMemo, useState } from 'react';
import type { Api } from '../../lib/api';
import { errorRange, type LocatedError, type ValidationReport } from './errors';

/** How long the editor waits after the last keystroke before asking the engine (ms). */
export const VALIDATE_DELAY = 400;

/**
 * The trigger document's YAML editor (CodeMirror 6): syntax highlighting, and, when `validate` is on, the engine's
 * validation (POST /v1/triggers/validate) as you type, each error a lint diagnostic at its line and column.
 * `onReport` gets every answer (the list below the editor), or the error of the call.
 */
export function TriggerEditor({
  value,
  onChange,
  readOnly,
  api,
  triggerId,
  onReport,
  onView,
}: {
  value: string;
  onChange(text: string): void;
  readOnly: boolean;
  api?: Api;
  /** The trigger being edited (its id may not change); undefined for a new one. */
  triggerId?: string;
  onReport(report: ValidationReport | undefined, error?: unknown): void;
  /** The editor's view once created (to move the cursor to an error). */
  onView?(view: EditorView): void;
}) {
  const [validator] = useState(() => new EngineValidator());
  useEffect(() => {
    validator.listen(onReport);
  }, [validator, onReport]);
  const extensions = useMemo(() => {
    const base = [yaml(), EditorView.lineWrapping, EditorView.contentAttributes.of({ 'aria-label': 'Trigger document (YAML)' })];
    if (readOnly || !api) return base;
    return [...base, linter((view) => validator.lint(api, view, triggerId), { delay: VALIDATE_DELAY }), lintGutter()];
  }, [readOnly, api, triggerId, validator]);
  return (
    <div className="trigger-editor">
      <CodeMirror
        value={value}
        onChange={onChange}
        extensions={extensions}
        readOnly={readOnly}
        editable={!readOnly}
        basicSetup={{ foldGutter: true, highlightActiveLine: !readOnly, autocompletion: false }}
        onCreateEditor={onView}
        minHeight="320px"
        maxHeight="70vh"
      />
      {!readOnly ? (
        <p className="muted editor-help" id="editor-help">
          Tab indents; press Esc, then Tab, to move on from the editor. The engine checks the document as you type.
        </p>
      ) : null}
    </div>
  );
}

/** Asks the engine about the document; only the latest answer counts (an older one that arrives late is dropped). */
class EngineValidator {
  private onReport: (report: ValidationReport | undefined, error?: unknown) => void = () => {};
  private seq = 0;

  listen(onReport: (report: ValidationReport | undefined, error?: unknown) => void): void {
    this.onReport = onReport;
  }

  async lint(api: Api, view: EditorView, triggerId: string | undefined): Promise<Diagnostic[]> {
    const text = view.state.doc.toString();
    const mine = ++this.seq;
    try {
      const report = await api.post<ValidationReport>('/v1/triggers/validate', text, {
        contentType: 'application/yaml',
        query: { id: triggerId },
      });
      if (mine !== this.seq) return [];
      this.onReport(report);
      const doc = view.state.doc;
      return report.errors.map((e) => ({
        ...errorRange(doc, e),
        severity: 'error' as const,
        message: e.path ? `${e.path}: ${e.message}` : e.message,
        source: 'engine',
      }));
    } catch (error) {
      if (mine === this.seq) this.onReport(undefined, error);
      return [];
    }
  }
}

/** Moves the cursor to an error and the focus into the editor. */
export function jumpTo(view: EditorView, error: LocatedError): void {
  const { from } = errorRange(view.state.doc, error);
  view.dispatch({ selection: { anchor: from }, scrollIntoView: true });
  view.focus();
}
