import { useMutation, useQuery } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { DataTable, ErrorMessage, Loading } from '../../components/ui';
import { formatTime } from '../../lib/format';
import { useApi, useCan } from '../../lib/session';
import { localToIso, stepOptions, type PreviewAnswer, type TestSendAnswer } from './actions-logic';
import './actions-panels.css';

interface TriggerDetail {
  id: string;
  version: number;
  shownVersion: number;
  definition: unknown;
}

interface Explanation {
  messageId: string;
  customerId: string;
  channel: string;
  status: string;
  guards: Array<{ guard: string; verdict: string; detail: string }>;
}

const VERDICT: Record<PreviewAnswer['verdict'], { text: string; badge: string }> = {
  send: { text: 'would be sent', badge: 'ok' },
  suppress: { text: 'would be suppressed', badge: 'danger' },
  defer: { text: 'would be deferred', badge: 'warn' },
  none: { text: 'no guards (not a message)', badge: '' },
};

/** A step of a trigger version rendered for a chosen customer as of a moment, with its guard verdicts; a test send. */
export function PreviewPanel({ triggerId, version }: { triggerId: string; draft?: string; version?: number }) {
  const api = useApi();
  const canSend = useCan('editTriggers');
  const id = useId();
  const detail = useQuery({
    queryKey: ['trigger', triggerId, version ?? 'latest'],
    queryFn: () => api.get<TriggerDetail>(`/v1/triggers/${encodeURIComponent(triggerId)}`, { version }),
  });
  const steps = detail.data ? stepOptions(detail.data.definition) : [];
  const [customerId, setCustomerId] = useState('');
  const [step, setStep] = useState('');
  const [asOf, setAsOf] = useState('');
  const chosenStep = step || steps[0]?.path || '';

  const preview = useMutation({
    mutationFn: (request: { customerId: string; step: string; asOf?: string }) =>
      api.post<PreviewAnswer>(`/v1/triggers/${encodeURIComponent(triggerId)}/preview`, {
        ...request,
        ...(version !== undefined ? { version } : {}),
      }),
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const at = localToIso(asOf);
    preview.mutate({ customerId: customerId.trim(), step: chosenStep, ...(at ? { asOf: at } : {}) });
  };

  return (
    <section aria-labelledby={`${id}-h`} className="actions-panel">
      <h2 id={`${id}-h`}>Preview a step</h2>
      <form onSubmit={submit} className="actions-form">
        <div className="field">
          <label htmlFor={`${id}-customer`}>Customer id</label>
          <input id={`${id}-customer`} value={customerId} onChange={(e) => setCustomerId(e.target.value)} required autoComplete="off" />
        </div>
        <div className="field">
          <label htmlFor={`${id}-step`}>Step</label>
          {detail.isLoading ? (
            <Loading label="Loading the steps…" />
          ) : steps.length ? (
            <select id={`${id}-step`} value={chosenStep} onChange={(e) => setStep(e.target.value)}>
              {steps.map((s) => (
                <option key={s.path} value={s.path}>
                  {s.label}
                </option>
              ))}
            </select>
          ) : (
            <input
              id={`${id}-step`}
              value={step}
              onChange={(e) => setStep(e.target.value)}
              placeholder="steps[0]"
              required
              aria-describedby={`${id}-step-help`}
            />
          )}
          {!detail.isLoading && !steps.length ? (
            <p id={`${id}-step-help`} className="muted">
              {detail.error
                ? `The trigger's steps could not be read (${(detail.error as Error).message}): type a step path such as steps[0].`
                : 'Type a step path such as steps[0].'}
            </p>
          ) : null}
        </div>
        <div className="field">
          <label htmlFor={`${id}-asof`}>As of (empty: now)</label>
          <input id={`${id}-asof`} type="datetime-local" value={asOf} onChange={(e) => setAsOf(e.target.value)} />
        </div>
        <button type="submit" className="primary" disabled={preview.isPending || !customerId.trim() || !chosenStep}>
          {preview.isPending ? 'Rendering…' : 'Preview'}
        </button>
      </form>
      <ErrorMessage error={preview.error} title="Could not preview" />
      {preview.data ? <PreviewResult answer={preview.data} /> : null}
      {preview.data && canSend ? <TestSend triggerId={triggerId} version={version} answer={preview.data} /> : null}
    </section>
  );
}

function PreviewResult({ answer }: { answer: PreviewAnswer }) {
  const v = VERDICT[answer.verdict];
  return (
    <div className="panel" aria-label="Preview result" role="region">
      <h3>
        {answer.step.path} ({answer.step.kind}
        {answer.channel ? ` via ${answer.channel}` : ''}) for {answer.customerId}, as of {formatTime(answer.asOf)}
      </h3>
      <p>
        Verdict: <span className={`badge ${v.badge}`}>{v.text}</span>
        {answer.suppressed ? ` — ${answer.suppressed.reason}: ${answer.suppressed.detail}` : ''}
        {answer.deferredTo ? ` — until ${formatTime(answer.deferredTo)}` : ''}
      </p>
      {answer.templateErrors.length ? (
        <div role="alert" className="error">
          <strong>Template errors: </strong>
          <ul>
            {answer.templateErrors.map((t) => (
              <li key={t}>{t}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <dl className="actions-rendered">
        {answer.to !== undefined ? (
          <>
            <dt>To</dt>
            <dd>{answer.to}</dd>
          </>
        ) : null}
        {answer.title !== undefined ? (
          <>
            <dt>Title</dt>
            <dd>{answer.title}</dd>
          </>
        ) : null}
        {answer.request ? (
          <>
            <dt>Request</dt>
            <dd className="mono">
              {answer.request.method} {answer.request.url}
            </dd>
          </>
        ) : null}
        {answer.subject !== undefined ? (
          <>
            <dt>Subject</dt>
            <dd data-testid="preview-subject">{answer.subject}</dd>
          </>
        ) : null}
        {answer.body !== undefined ? (
          <>
            <dt>Body</dt>
            <dd>
              <pre className="actions-body" data-testid="preview-body">
                {answer.body}
              </pre>
            </dd>
          </>
        ) : null}
        {answer.cause ? (
          <>
            <dt>Rendered from</dt>
            <dd>
              {answer.cause.name} at {formatTime(answer.cause.at)}
            </dd>
          </>
        ) : null}
        <dt>Time zone</dt>
        <dd>{answer.timeZone}</dd>
      </dl>
      <DataTable
        caption="Guard verdicts"
        columns={['Guard', 'Verdict', 'Detail']}
        rows={answer.guards.map((g) => [g.guard, g.verdict, g.detail])}
      />
      {answer.notes.length ? (
        <ul className="muted">
          {answer.notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function TestSend({ triggerId, version, answer }: { triggerId: string; version?: number; answer: PreviewAnswer }) {
  const api = useApi();
  const id = useId();
  const inbox = answer.channel === 'inbox';
  const [to, setTo] = useState('');
  const send = useMutation({
    mutationFn: (target: string) =>
      api.post<TestSendAnswer>(`/v1/triggers/${encodeURIComponent(triggerId)}/test-send`, {
        customerId: answer.customerId,
        step: answer.step.path,
        to: target,
        asOf: answer.asOf,
        ...(version !== undefined ? { version } : {}),
      }),
  });
  const sent = send.data;
  // the test message as the engine recorded it (explain), until its delivery outcome is in
  const recorded = useQuery({
    queryKey: ['message-explain', sent?.messageId],
    enabled: sent !== undefined,
    queryFn: () => api.get<Explanation>(`/v1/messages/${encodeURIComponent(sent!.messageId)}/explain`),
    retry: (count) => count < 20,
    retryDelay: 500,
    refetchInterval: (q) => (q.state.data && ['delivered', 'failed', 'suppressed'].includes(q.state.data.status) ? false : 1000),
  });
  if (answer.step.kind !== 'send' && answer.step.kind !== 'reply')
    return <p className="muted">Only send and reply steps can be test-sent; this is a {answer.step.kind} step.</p>;
  const testGuard = recorded.data?.guards.find((g) => g.guard === 'test-send');
  return (
    <section aria-labelledby={`${id}-h`} className="panel">
      <h3 id={`${id}-h`}>Send test</h3>
      <form
        className="actions-form"
        onSubmit={(e) => {
          e.preventDefault();
          send.mutate(to.trim());
        }}
      >
        <div className="field">
          <label htmlFor={`${id}-to`}>{inbox ? 'Test inbox (a test customer id)' : 'Test address (email)'}</label>
          <input
            id={`${id}-to`}
            value={to}
            onChange={(e) => setTo(e.target.value)}
            required
            autoComplete="off"
            placeholder={inbox ? 'qa-tester' : 'qa@example.com'}
          />
        </div>
        <button type="submit" disabled={send.isPending || !to.trim()}>
          {send.isPending ? 'Sending…' : 'Send test'}
        </button>
      </form>
      <ErrorMessage error={send.error} title="Test send refused" />
      {sent ? (
        <div role="status" className="notice">
          <p>
            Test message <code>{sent.messageId}</code> scheduled via {sent.channel} to {sent.to}
            {sent.channel === 'inbox' ? (
              <>
                {' '}
                (in <Link to={`/customers/${encodeURIComponent(sent.customerId)}`}>{sent.customerId}</Link>&rsquo;s inbox)
              </>
            ) : null}
            , marked as a test: never counted in analytics nor caps.
          </p>
          {recorded.data ? (
            <p data-testid="test-send-recorded">
              Recorded as a test send: {recorded.data.status}
              {testGuard ? ` (${testGuard.detail})` : ''}.
            </p>
          ) : recorded.error ? (
            <ErrorMessage error={recorded.error} title="Could not read the test message back" />
          ) : (
            <p className="muted">Waiting for the engine to record it…</p>
          )}
        </div>
      ) : null}
    </section>
  );
}
