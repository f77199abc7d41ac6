import { Link } from 'react-router';
import { ErrorMessage, Loading } from '../../components/ui';
import { formatTime } from '../../lib/format';
import { useCustomerContext } from './data';

const show = (v: unknown): string => (v === null || v === undefined ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** What an agent needs so as not to ask again: GET /v1/customers/:id/context, beside the conversation or task. */
export function ContextPanel({ customerId, current }: { customerId: string; current?: string }) {
  const context = useCustomerContext(customerId);
  const c = context.data;
  const enc = encodeURIComponent(customerId);
  return (
    <aside className="panel work-context" aria-labelledby="context-h">
      <h2 id="context-h">Customer {customerId}</h2>
      <p>
        <Link to={`/customers/${enc}`}>Open the customer&apos;s profile</Link>
      </p>
      <ErrorMessage error={context.error} title="Could not read the customer's context" />
      {context.isPending ? <Loading label="Reading the customer's context…" /> : null}
      {c ? (
        <>
          <dl className="facts">
            <dt>Stage</dt>
            <dd>
              {c.stage ?? '—'}
              {c.stageSince ? <span className="muted"> since {formatTime(c.stageSince)}</span> : null}
            </dd>
            <dt>Health</dt>
            <dd>
              <span className={`badge ${c.health >= 70 ? 'ok' : c.health >= 40 ? 'warn' : 'danger'}`}>{c.health}</span>
            </dd>
            <dt>First seen</dt>
            <dd>{formatTime(c.firstSeen)}</dd>
            <dt>Last seen</dt>
            <dd>{formatTime(c.lastSeen)}</dd>
          </dl>

          <h3>Traits</h3>
          {Object.keys(c.traits).length === 0 ? (
            <p className="muted">No traits.</p>
          ) : (
            <dl className="facts traits">
              {Object.entries(c.traits).map(([k, v]) => (
                <div key={k}>
                  <dt>{k}</dt>
                  <dd>{show(v)}</dd>
                </div>
              ))}
            </dl>
          )}
          {Object.entries(c.accountTraits).map(([account, traits]) => (
            <div key={account}>
              <h3>Account {account}</h3>
              <dl className="facts traits">
                {Object.entries(traits).map(([k, v]) => (
                  <div key={k}>
                    <dt>{k}</dt>
                    <dd>{show(v)}</dd>
                  </div>
                ))}
              </dl>
            </div>
          ))}

          <h3>Recent events</h3>
          {c.interactions.length === 0 ? (
            <p className="muted">No events yet.</p>
          ) : (
            <ul className="plain">
              {c.interactions.slice(0, 10).map((e, i) => (
                <li key={i}>
                  <strong>{e.name ?? e.type}</strong> <span className="muted">{formatTime(e.at)}</span>
                </li>
              ))}
            </ul>
          )}

          <h3>Open tasks</h3>
          {c.openTasks.length === 0 ? (
            <p className="muted">None.</p>
          ) : (
            <ul className="plain">
              {c.openTasks.map((t) => (
                <li key={t.taskId}>
                  {t.taskId === current ? (
                    <strong>{t.title} (this task)</strong>
                  ) : (
                    <Link to={`/work/customers/${enc}/tasks/${encodeURIComponent(t.taskId)}`}>{t.title}</Link>
                  )}{' '}
                  <span className="muted">{t.priority ?? ''}</span>
                </li>
              ))}
            </ul>
          )}

          <h3>Conversations</h3>
          {c.openConversations.length + c.earlierConversations.length === 0 ? (
            <p className="muted">None.</p>
          ) : (
            <ul className="plain">
              {[...c.openConversations, ...c.earlierConversations].slice(0, 10).map((conv) => (
                <li key={conv.conversationId}>
                  {conv.conversationId === current ? (
                    <strong>{conv.subject ?? 'This conversation'}</strong>
                  ) : (
                    <Link to={`/work/customers/${enc}/conversations/${encodeURIComponent(conv.conversationId)}`}>
                      {conv.subject ?? conv.lastMessage?.body.slice(0, 40) ?? conv.conversationId}
                    </Link>
                  )}{' '}
                  <span className="muted">
                    {conv.status}
                    {conv.rating ? ` · rated ${conv.rating.score}/5` : ''}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </>
      ) : null}
    </aside>
  );
}
