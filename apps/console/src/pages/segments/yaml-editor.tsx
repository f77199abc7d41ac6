import { yaml } from '@codemirror/lang-yaml';
import { forceLinting, linter, lintGutter, type Diagnostic } from '@codemirror/lint';
import { StateEffect, StateField } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import CodeMirror from '@uiw/react-codemirror';
import { useEffect, useMemo, useRef } from 'react';
import { parseSegmentYaml, type DocProblem } from './segment-doc';

interface ServerProblems {
  problems: readonly DocProblem[];
  /** The text they are about: shown only while the document is still that text. */
  text?: string;
}

const setServerProblems = StateEffect.define<ServerProblems>();
const serverProblemsField = StateField.define<ServerProblems>({
  create: () => ({ problems: [] }),
  update: (value, tr) => tr.effects.reduce((v, e) => (e.is(setServerProblems) ? e.value : v), value),
});

/** YAML syntax errors as you type, and the engine's errors of the last save at their lines while the text is unchanged. */
const segmentLinter = linter(
  (view): Diagnostic[] => {
    const text = view.state.doc.toString();
    const clamp = (n: number) => Math.max(0, Math.min(n, text.length));
    const parsed = parseSegmentYaml(text);
    const server = view.state.field(serverProblemsField);
    const problems = [...(parsed.ok ? [] : parsed.problems), ...(server.text === text ? server.problems : [])];
    return problems.map((p) => ({ from: clamp(p.from), to: Math.max(clamp(p.to), clamp(p.from)), severity: 'error', message: p.message }));
  },
  { delay: 300 },
);

/** The segment document editor: CodeMirror 6 with YAML highlighting and the problems above underlined at their lines. */
export function YamlEditor({
  value,
  onChange,
  label,
  serverProblems,
  sentText,
  describedBy,
}: {
  value: string;
  onChange(value: string): void;
  label: string;
  serverProblems: readonly DocProblem[];
  sentText?: string;
  describedBy?: string;
}) {
  const view = useRef<EditorView | undefined>(undefined);
  useEffect(() => {
    const v = view.current;
    if (!v) return;
    v.dispatch({ effects: setServerProblems.of({ problems: serverProblems, text: sentText }) });
    forceLinting(v);
  }, [serverProblems, sentText]);
  const extensions = useMemo(
    () => [
      yaml(),
      lintGutter(),
      serverProblemsField,
      segmentLinter,
      EditorView.contentAttributes.of({ 'aria-label': label, ...(describedBy ? { 'aria-describedby': describedBy } : {}) }),
      EditorView.lineWrapping,
    ],
    [label, describedBy],
  );
  return (
    <div className="seg-editor">
      <CodeMirror
        value={value}
        onChange={onChange}
        onCreateEditor={(v) => {
          view.current = v;
        }}
        extensions={extensions}
        minHeight="220px"
        basicSetup={{ foldGutter: false }}
      />
    </div>
  );
}
