import { useQuery } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { DataTable, ErrorMessage, Loading } from '../../components/ui';
import { formatTime } from '../../lib/format';
import { useApi } from '../../lib/session';
import { parseTypedTime, whyNotSummary, type WhyNotAnswer } from './logic';

/** "Why didn't this customer get trigger X?": GET /v1/customers/:id/why-not?trigger=&asOf=. */
export function WhyNot({ customerId }: { customerId: string }) {
  const api = useApi();
  const triggers = useQuery({
    queryKey: ['triggers'],
    queryFn: () => api.get<{ triggers: { id: string; name: string; version: number; enabled: boolean }[] }>('/v1/triggers'),
  });
  const ids = useId();
  const [trigger, setTrigger] = useState('');
  const [asOfText, setAsOfText] = useState('');
  const [error, setError] = useState<string>();
  const [asked, setAsked] = useState<{ trigger: string; asOf?: string }>();
  const answer = useQuery({
    queryKey: ['customer', customerId, 'why-not', asked],
    queryFn: ({ signal }) =>
      api.get<WhyNotAnswer>(
        `/v1/customers/${encodeURIComponent(customerId)}/why-not`,
        { trigger: asked!.trigger, asOf: asked!.asOf },
        signal,
      ),
    enabled: asked !== undefined,
    staleTime: Infinity,
  });
  const chosen = trigger || triggers.data?.triggers[0]?.id || '';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!chosen) {
      setError('choose a trigger');
      return;
    }
    let asOf: string | undefined;
    if (asOfText.trim()) {
      const parsed = parseTypedTime(asOfText);
      if ('error' in parsed) {
        setError(`As of: ${parsed.error}`);
        return;
      }
      asOf = parsed.iso;
    }
    setError(undefined);
    setAsked({ trigger: chosen, asOf });
  };
  const a = answer.data;
  const summary = a ? whyNotSummary(a) : undefined;
  return (
    <>
      <ErrorMessage error={triggers.error} title="The triggers could not be listed" />
      <form className="row why-not-form" onSubmit={submit}>
        <div className="field">
          <label htmlFor={`${ids}-trigger`}>Trigger</label>
          <select id={`${ids}-trigger`} value={chosen} onChange={(e) => setTrigger(e.target.value)}>
            {(triggers.data?.triggers ?? []).map((t) => (
              <option key={t.id} value={t.id}>
                {t.name ? `${t.name} (${t.id})` : t.id} v{t.version}
                {t.enabled ? '' : ' · disabled'}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${ids}-asof`}>As of (optional, ISO 8601 UTC)</label>
          <input id={`${ids}-asof`} value={asOfText} placeholder="now" onChange={(e) => setAsOfText(e.target.value)} />
        </div>
        <button type="submit" className="primary">
          Ask why not
        </button>
      </form>
      {triggers.data && triggers.data.triggers.length === 0 ? <p className="muted">The workspace has no trigger yet.</p> : null}
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
      <ErrorMessage error={answer.error} title="Why-not" />
      {answer.isFetching && !a ? <Loading label="Asking…" /> : null}
      {a && summary ? (
        <div className="why-not-answer" aria-live="polite">
          <p className={`notice verdict-${summary.tone}`}>
            <span className={`badge ${summary.tone}`}>{a.got ? 'Got it' : a.code}</span> {summary.headline}
          </p>
          <p className="muted">
            Trigger {a.triggerId} v{a.version}, as of {formatTime(a.asOf)}
            {a.decidedOn ? ` · decided on ${a.decidedOn.name ?? a.decidedOn.type} at ${formatTime(a.decidedOn.at)}` : ''}
          </p>
          {summary.blocking ? (
            <p>
              <strong>First check that kept them out ({summary.blocking.check}):</strong> {summary.blocking.text}
            </p>
          ) : null}
          <DataTable
            caption="The events it looked at"
            columns={['When', 'Event', 'Type', 'Id']}
            rows={a.events.map((e) => [formatTime(e.at), e.name ?? '—', e.type, <code key={e.id}>{e.id}</code>])}
            csvRows={a.events.map((e) => [e.at, e.name ?? '', e.type, e.id])}
          />
          {a.messages?.length ? (
            <DataTable
              caption="Messages the frequency cap counted"
              columns={['When', 'Message', 'Channel', 'Trigger']}
              rows={a.messages.map((m) => [formatTime(m.at), m.messageId, m.channel, m.triggerId ?? '—'])}
            />
          ) : null}
          <h3>Every check, in order</h3>
          <ol className="checks">
            {a.checks.map((c, i) => (
              <li key={i}>
                <span className={`badge ${c.passed ? 'ok' : 'danger'}`}>{c.passed ? 'passed' : 'failed'}</span> <strong>{c.check}</strong>:{' '}
                {c.text}
              </li>
            ))}
          </ol>
        </div>
      ) : null}
    </>
  );
}
