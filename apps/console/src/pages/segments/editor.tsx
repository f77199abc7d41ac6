import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { ErrorMessage, Loading, PageHeading } from '../../components/ui';
import { ApiError } from '../../lib/api';
import { useApi, useCan } from '../../lib/session';
import type { SegmentDetail } from './detail';
import { getSegment } from './queries';
import {
  NEW_SEGMENT_YAML,
  checkSegmentId,
  definitionToYaml,
  errorsOf,
  locateErrors,
  parseSegmentYaml,
  type DocProblem,
} from './segment-doc';
import { YamlEditor } from './yaml-editor';

const NONE: DocProblem[] = [];

/** Define a segment (`/segments/new`) or a new version of one (`/segments/:id/edit`): a YAML document, PUT as YAML. */
export function SegmentEditorPage() {
  const { id: existingId } = useParams();
  const canEdit = useCan('editSegments');
  const api = useApi();
  const existing = useQuery({
    queryKey: ['segment', existingId],
    queryFn: () => getSegment<SegmentDetail>(api, existingId!),
    enabled: existingId !== undefined,
  });
  const title = existingId ? `Edit segment ${existingId}` : 'Define a segment';
  if (!canEdit)
    return (
      <>
        <PageHeading>{title}</PageHeading>
        <p>This key may read segments but not define them (a csm or admin key may).</p>
      </>
    );
  if (existingId && existing.isPending)
    return (
      <>
        <PageHeading>{title}</PageHeading>
        <Loading label="Loading the segment…" />
      </>
    );
  if (existingId && existing.error)
    return (
      <>
        <PageHeading>{title}</PageHeading>
        <ErrorMessage error={existing.error} title="Could not load the segment" />
      </>
    );
  return (
    <EditorForm
      key={existingId ?? 'new'}
      title={title}
      existingId={existingId}
      version={existing.data?.version}
      initial={existing.data ? definitionToYaml(existing.data.definition) : NEW_SEGMENT_YAML}
    />
  );
}

function EditorForm({ title, existingId, version, initial }: { title: string; existingId?: string; version?: number; initial: string }) {
  const api = useApi();
  const navigate = useNavigate();
  const client = useQueryClient();
  const [id, setId] = useState(existingId ?? '');
  const [text, setText] = useState(initial);
  const [sent, setSent] = useState<{ text: string; problems: DocProblem[] }>();
  const [idProblem, setIdProblem] = useState<string>();

  const save = useMutation({
    mutationFn: async (doc: string) =>
      api.put<{ id: string; version: number; changed: boolean }>(`/v1/segments/${encodeURIComponent(id)}`, doc, {
        contentType: 'application/yaml',
        ...(version !== undefined ? { headers: { 'if-match': `"${version}"` } } : {}),
      }),
    onSuccess: async (change) => {
      await client.invalidateQueries({ queryKey: ['segments'] });
      await client.invalidateQueries({ queryKey: ['segment', change.id] });
      void navigate(`/segments/${encodeURIComponent(change.id)}`, { state: { saved: change } });
    },
    onError: (error, doc) => {
      if (error instanceof ApiError && error.status === 400)
        setSent({ text: doc, problems: locateErrors(doc, errorsOf(error.body, error.message)) });
      else setSent(undefined);
    },
  });

  const parsed = parseSegmentYaml(text);
  const localProblems = parsed.ok ? [] : parsed.problems;
  const serverProblems = sent && sent.text === text ? sent.problems : [];

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const problem = existingId ? undefined : checkSegmentId(id);
    setIdProblem(problem);
    if (problem || !parsed.ok) return;
    save.mutate(text);
  };

  return (
    <>
      <PageHeading>{title}</PageHeading>
      <form onSubmit={submit} className="seg-form">
        {existingId ? (
          <p>
            Version {version} is current; saving a changed document makes version {(version ?? 0) + 1}, and every customer is evaluated
            again.
          </p>
        ) : (
          <div className="field">
            <label htmlFor="segment-id">Id</label>
            <input
              id="segment-id"
              value={id}
              onChange={(e) => {
                setId(e.target.value);
                setIdProblem(undefined);
              }}
              required
              aria-invalid={idProblem ? true : undefined}
              aria-describedby="segment-id-help"
              pattern="[A-Za-z0-9_\-]{1,64}"
            />
            <span id="segment-id-help" className="muted">
              Letters, digits, - and _; it names the segment in triggers (<code>inSegment: pro</code>).
            </span>
            {idProblem ? (
              <div role="alert" className="error">
                {idProblem}
              </div>
            ) : null}
          </div>
        )}
        <h2 id="doc-h">Document</h2>
        <p id="doc-help" className="muted">
          YAML: <code>name</code>, <code>description</code> and <code>conditions</code> in the trigger language (<code>traits</code>,{' '}
          <code>inStage</code>, <code>count</code>, <code>sum</code>, <code>inactive</code>, <code>absent</code>, <code>usageDrop</code>,{' '}
          <code>account</code>, with <code>all</code> / <code>any</code> / <code>not</code>).
        </p>
        <YamlEditor
          value={text}
          onChange={setText}
          label="Segment document (YAML)"
          describedBy="doc-help"
          serverProblems={sent?.problems ?? NONE}
          sentText={sent?.text}
        />
        {localProblems.length ? (
          <div role="alert" className="error">
            <strong>The YAML cannot be read:</strong>
            <ul>
              {localProblems.map((p, i) => (
                <li key={i}>
                  line {p.line}: {p.message}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        {serverProblems.length ? (
          <div role="alert" className="error">
            <strong>The engine refused the segment ({serverProblems.length}):</strong>
            <ul>
              {serverProblems.map((p, i) => (
                <li key={i}>
                  line {p.line}: {p.message}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        {save.error && !(save.error instanceof ApiError && save.error.status === 400) ? (
          <ErrorMessage error={save.error} title="Could not save the segment" />
        ) : null}
        <div className="row seg-actions">
          <button type="submit" className="primary" disabled={save.isPending || !parsed.ok}>
            {save.isPending ? 'Saving…' : 'Save segment'}
          </button>
          <Link className="button" to={existingId ? `/segments/${encodeURIComponent(existingId)}` : '/segments'}>
            Cancel
          </Link>
        </div>
      </form>
    </>
  );
}
