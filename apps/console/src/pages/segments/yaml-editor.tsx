import { yaml } from '@codemirror/lang-yaml';
import { linter, lintGutter, type Diagnostic } from '@codemirror/lint';
import { EditorView } from '@codemirror/view';
import CodeMirror from '@uiw/react-codemirror';
import { useMemo } from 'react';
import { parseSegmentYaml, type DocProblem } from './segment-doc';

/**
 * The segment document editor: CodeMirror 6 with YAML highlighting, YAML syntax errors underlined as you type, and the
 * engine's errors of the last save (`serverProblems`) at the lines they name while the text is the one that was sent.
 */
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
  const extensions = useMemo(
    () => [
      yaml(),
      lintGutter(),
      linter(
        (view): Diagnostic[] => {
          const text = view.state.doc.toString();
          const length = text.length;
          const clamp = (n: number) => Math.max(0, Math.min(n, length));
          const parsed = parseSegmentYaml(text);
          const local = parsed.ok ? [] : parsed.problems;
          const remote = text === sentText ? serverProblems : [];
          return [...local, ...remote].map((p) => ({
            from: clamp(p.from),
            to: Math.max(clamp(p.to), clamp(p.from)),
            severity: 'error',
            message: p.message,
          }));
        },
        { delay: 300 },
      ),
      EditorView.contentAttributes.of({
        'aria-label': label,
        ...(describedBy ? { 'aria-describedby': describedBy } : {}),
      }),
      EditorView.lineWrapping,
    ],
    [label, describedBy, serverProblems, sentText],
  );
  return (
    <div className="seg-editor">
      <CodeMirror value={value} onChange={onChange} extensions={extensions} minHeight="220px" basicSetup={{ foldGutter: false }} />
    </div>
  );
}
