import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { DataTable, ErrorMessage, Loading, PageHeading } from '../../components/ui';
import { formatTime } from '../../lib/format';
import { useApi } from '../../lib/session';
import { shapeExplain, verdictTone, type ExplainedEvent, type MessageExplanation } from './logic';

const eventRows = (events: ExplainedEvent[]) =>
  events.map((e) => [formatTime(e.occurredAt), e.type, e.detail ?? '—', e.source ?? '—', <code key={e.id}>{e.id}</code>]);
const eventCsv = (events: ExplainedEvent[]) => events.map((e) => [e.occurredAt ?? '', e.type, e.detail ?? '', e.source ?? '', e.id]);
const EVENT_COLUMNS = ['When', 'Event', 'Detail', 'Source', 'Id'];

/** /customers/:id/messages/:messageId: why a message was sent or suppressed (GET /v1/messages/:id/explain). */
export function ExplainPage() {
  const { id = '', messageId = '' } = useParams();
  const api = useApi();
  const q = useQuery({
    queryKey: ['message', messageId, 'explain'],
    queryFn: ({ signal }) => api.get<MessageExplanation>(`/v1/messages/${encodeURIComponent(messageId)}/explain`, undefined, signal),
  });
  const x = q.data;
  const shaped = x ? shapeExplain(x) : undefined;
  return (
    <>
      <PageHeading>{`Why message ${messageId}`}</PageHeading>
      <p>
        <Link to={`/customers/${encodeURIComponent(id)}`}>← Customer {id}</Link>
      </p>
      <ErrorMessage error={q.error} title="The explanation" />
      {q.isPending ? <Loading /> : null}
      {x && shaped ? (
        <>
          <section className="panel" aria-labelledby="decision-title">
            <h2 id="decision-title">Decision</h2>
            <p className="notice">{shaped.headline}</p>
            <dl className="facts">
              <dt>Customer</dt>
              <dd>{x.customerId}</dd>
              <dt>Channel</dt>
              <dd>{x.channel}</dd>
              <dt>Status</dt>
              <dd>{x.status}</dd>
              <dt>Decided</dt>
              <dd>
                {x.decision.outcome} on {x.decision.event.type} at {formatTime(x.decision.event.occurredAt)}
              </dd>
            </dl>
          </section>
          {x.trigger ? (
            <section className="panel" aria-labelledby="trigger-title">
              <h2 id="trigger-title">Trigger</h2>
              <dl className="facts">
                <dt>Trigger</dt>
                <dd>
                  <Link to={`/triggers/${encodeURIComponent(x.trigger.id)}`}>{x.trigger.name ?? x.trigger.id}</Link> ({x.trigger.id})
                </dd>
                <dt>Version</dt>
                <dd>v{x.trigger.version ?? '—'}</dd>
                <dt>Step</dt>
                <dd>{x.trigger.step ?? '—'}</dd>
                <dt>Run</dt>
                <dd>{x.trigger.runId ?? '—'}</dd>
              </dl>
              <DataTable
                caption="The run's events"
                columns={EVENT_COLUMNS}
                rows={eventRows(x.trigger.run)}
                csvRows={eventCsv(x.trigger.run)}
              />
            </section>
          ) : null}
          {x.broadcast ? (
            <section className="panel" aria-labelledby="broadcast-title">
              <h2 id="broadcast-title">Broadcast</h2>
              <p>
                Broadcast {x.broadcast.id}
                {x.broadcast.segmentId ? ` to segment ${x.broadcast.segmentId}` : ''} ({x.broadcast.status ?? 'status unknown'})
              </p>
            </section>
          ) : null}
          <section className="panel" aria-labelledby="causes-title">
            <h2 id="causes-title">Causing events</h2>
            <DataTable
              caption="From the root cause to the decision"
              columns={EVENT_COLUMNS}
              rows={eventRows(shaped.chain)}
              csvRows={eventCsv(shaped.chain)}
            />
          </section>
          <section className="panel" aria-labelledby="guards-title">
            <h2 id="guards-title">Guards</h2>
            <p>{shaped.guardsSummary}</p>
            <DataTable
              caption="Every guard's verdict"
              columns={['Guard', 'Verdict', 'Detail']}
              rows={x.guards.map((g) => [
                g.guard,
                <span key={g.guard} className={`badge ${verdictTone(g.verdict)}`}>
                  {g.verdict}
                </span>,
                g.detail,
              ])}
              csvRows={x.guards.map((g) => [g.guard, g.verdict, g.detail])}
            />
          </section>
          <section className="panel" aria-labelledby="delivery-title">
            <h2 id="delivery-title">Delivery chain</h2>
            <DataTable
              caption="Delivery steps, in order"
              columns={['When', 'Event', 'Detail', 'Attempt', 'Id']}
              rows={shaped.delivery.map((e) => [
                formatTime(e.occurredAt),
                e.type,
                e.detail ?? '—',
                e.attempt ?? '—',
                <code key={e.id}>{e.id}</code>,
              ])}
              csvRows={shaped.delivery.map((e) => [e.occurredAt ?? '', e.type, e.detail ?? '', e.attempt ?? '', e.id])}
            />
          </section>
          {x.template ? (
            <section className="panel" aria-labelledby="template-title">
              <h2 id="template-title">Template</h2>
              <p className="muted">
                {x.template.id ? `Template ${x.template.id}${x.template.version ? ` v${x.template.version}` : ''}` : 'Inline template'}
              </p>
              {x.template.subject ? (
                <p>
                  <strong>Subject:</strong> {x.template.subject}
                </p>
              ) : null}
              <pre className="template-body">{x.template.body}</pre>
            </section>
          ) : null}
        </>
      ) : null}
    </>
  );
}
