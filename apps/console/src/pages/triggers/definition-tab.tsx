import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { ErrorMessage } from '../../components/ui';
import { ApiError } from '../../lib/api';
import { useApi, useCan } from '../../lib/session';
import { documentId } from './document';
import type { EditorView } from '@codemirror/view';
import { jumpTo, TriggerEditor } from './editor';
import { describeError, saveErrors, sortErrors, type ValidationReport } from './errors';
import type { TriggerChange } from './model';

/**
 * The Definition tab: the YAML editor, the engine's errors below it ("line N: ..."), and Save (POST for a new trigger,
 * PUT with If-Match for a new version; a 409 says someone saved meanwhile and offers to load theirs).
 */
export function DefinitionTab({
  triggerId,
  baseVersion,
  enabled,
  draft,
  onDraft,
  onSaved,
  onReloadLatest,
}: {
  /** undefined: a new trigger. */
  triggerId?: string;
  /** The version the draft is based on (If-Match). */
  baseVersion?: number;
  /** Whether the trigger is enabled: a new version then takes effect at once. */
  enabled?: boolean;
  draft: string;
  onDraft(text: string): void;
  onSaved(change: TriggerChange, text: string): void;
  onReloadLatest(): void;
}) {
  const api = useApi();
  const canEdit = useCan('editTriggers');
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [report, setReport] = useState<ValidationReport>();
  const [validationError, setValidationError] = useState<unknown>();
  const [notice, setNotice] = useState<string>();
  const [view, setView] = useState<EditorView>();

  const save = useMutation({
    mutationFn: async (text: string) => {
      const options = { contentType: 'application/yaml' };
      if (triggerId === undefined) return api.post<TriggerChange>('/v1/triggers', text, options);
      return api.put<TriggerChange>(`/v1/triggers/${encodeURIComponent(triggerId)}`, text, {
        ...options,
        headers: baseVersion !== undefined ? { 'if-match': `"${baseVersion}"` } : {},
      });
    },
    onSuccess: async (change, text) => {
      setNotice(
        change.changed ? `Saved as version ${change.version}.` : `No change: the document is the same as version ${change.version}.`,
      );
      await queryClient.invalidateQueries({ queryKey: ['triggers'] });
      await queryClient.invalidateQueries({ queryKey: ['trigger', change.id] });
      onSaved(change, text);
      if (triggerId === undefined) void navigate(`/triggers/${encodeURIComponent(change.id)}`, { replace: true, state: { draft: text } });
    },
    onMutate: () => setNotice(undefined),
  });

  const errors = report ? sortErrors(report.errors) : [];
  const conflict = save.error instanceof ApiError && save.error.status === 409 && triggerId !== undefined;
  const saveError =
    save.error instanceof ApiError && save.error.status === 400 ? saveErrors(save.error.body, save.error.message) : undefined;
  const newId = triggerId === undefined ? documentId(draft) : undefined;

  return (
    <section aria-labelledby="definition-heading">
      <h2 id="definition-heading">Definition</h2>
      {!canEdit ? <p className="notice">Read only: this key may read triggers, not change them.</p> : null}
      <TriggerEditor
        value={draft}
        onChange={onDraft}
        readOnly={!canEdit}
        api={canEdit ? api : undefined}
        triggerId={triggerId}
        onView={setView}
        onReport={(r, error) => {
          setReport(r);
          setValidationError(error);
        }}
      />
      {canEdit ? (
        <div aria-live="polite" className="validation">
          <ErrorMessage error={validationError} title="Could not validate the document" />
          {report && report.valid ? <p className="badge ok">The engine accepts this document.</p> : null}
          {errors.length ? (
            <>
              <h3 id="problems-heading">
                {errors.length} {errors.length === 1 ? 'problem' : 'problems'} the engine found
              </h3>
              <ul aria-labelledby="problems-heading" className="problems">
                {errors.map((e, i) => (
                  <li key={`${i}-${e.path}`}>
                    {describeError(e)}{' '}
                    {view && e.line != null ? (
                      <button
                        type="button"
                        className="link"
                        onClick={() => jumpTo(view, e)}
                        aria-label={`Go to line ${e.line}: ${e.path || e.message}`}
                      >
                        Go to line {e.line}
                      </button>
                    ) : null}
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </div>
      ) : null}
      {canEdit ? (
        <div className="row save-row">
          <button type="button" className="primary" disabled={save.isPending || !draft.trim()} onClick={() => save.mutate(draft)}>
            {save.isPending ? 'Saving…' : triggerId === undefined ? 'Save new trigger' : 'Save new version'}
          </button>
          {triggerId === undefined && newId ? <span className="muted">creates “{newId}”, disabled</span> : null}
          {baseVersion !== undefined ? <span className="muted">based on version {baseVersion}</span> : null}
          {enabled ? <span className="badge warn">enabled: a new version takes effect at once</span> : null}
        </div>
      ) : null}
      {notice ? (
        <p role="status" className="notice">
          {notice}
        </p>
      ) : null}
      {saveError ? (
        <div role="alert" className="error">
          <strong>Not saved: the engine refused the document</strong>
          <ul>
            {saveError.map((e) => (
              <li key={e}>{e}</li>
            ))}
          </ul>
        </div>
      ) : save.error ? (
        <ErrorMessage error={save.error} title={conflict ? 'Not saved: someone saved another version meanwhile' : 'Not saved'} />
      ) : null}
      {conflict ? (
        <p>
          <button type="button" onClick={onReloadLatest}>
            Load the latest version (discards this draft)
          </button>
        </p>
      ) : null}
    </section>
  );
}
