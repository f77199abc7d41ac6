import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useRef, type ReactNode } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { DataTable, ErrorMessage, Loading, PageHeading } from '../../components/ui';
import { formatTime, relative } from '../../lib/format';
import { useApi, useCan } from '../../lib/session';
import { LiveStatus, useLive } from '../../lib/use-live';
import { stageHistory, timeBounds, type TimelineEntry } from './logic';
import { AsOfControl, TimelineList } from './timeline';
import { WhyNot } from './why-not';

interface CustomerView {
  customerId: string;
  stage: string | null;
  stageSince: string | null;
  traits: Record<string, unknown>;
  accounts: string[];
  aliases: string[];
  mergedInto?: string;
  segments: string[];
  firstSeen: string | null;
  lastSeen: string | null;
  interactions: { total: number; byEvent: Record<string, number> };
  pageViews: number;
  messages: Record<string, number>;
  openTasks: { taskId: string; title: string; owner?: string; priority?: string; dueAt?: string; openedAt: string; triggerId?: string }[];
  closedTasks: number;
  forgotten: boolean;
  health: number;
  asOf?: string;
}

interface Timeline {
  customerId: string;
  asOf: string | null;
  entries: TimelineEntry[];
}

interface Upcoming {
  now: string;
  horizon: string;
  timeZone?: string;
  timers: { timerId: string; kind: string; dueAt: string; dueLocal?: string; description: string; unless: string[] }[];
  decisions: { kind?: string; at?: string; atLocal?: string; description?: string }[];
}

interface Conversation {
  conversationId: string;
  status: string;
  channel: string;
  assignee?: string;
  team?: string;
  priority?: string;
  subject?: string;
  startedAt?: string;
  messages?: number;
}

/** After a live event the customer's state (a read model, a moment behind the log) is read again after these (ms). */
const LIVE_REREADS_MS = [800, 2500];

function healthTone(h: number): 'ok' | 'warn' | 'danger' {
  return h >= 70 ? 'ok' : h >= 40 ? 'warn' : 'danger';
}

function Section({ id, title, children, actions }: { id: string; title: string; children: ReactNode; actions?: ReactNode }) {
  return (
    <section className="panel" aria-labelledby={`${id}-title`}>
      <div className="section-head">
        <h2 id={`${id}-title`}>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

export function CustomerPage() {
  const { id = '' } = useParams();
  const api = useApi();
  const canWork = useCan('work');
  const client = useQueryClient();
  const [params, setParams] = useSearchParams();
  const asOf = params.get('asOf') ?? undefined;
  const path = `/v1/customers/${encodeURIComponent(id)}`;

  const customer = useQuery({
    queryKey: ['customer', id, 'state', asOf ?? 'now'],
    queryFn: ({ signal }) => api.get<CustomerView>(path, { asOf }, signal),
    placeholderData: (prev) => prev,
  });
  const now = useQuery({
    queryKey: ['customer', id, 'timeline', 'now'],
    queryFn: ({ signal }) => api.get<Timeline>(`${path}/timeline`, undefined, signal),
  });
  const then = useQuery({
    queryKey: ['customer', id, 'timeline', asOf ?? 'now'],
    queryFn: ({ signal }) => api.get<Timeline>(`${path}/timeline`, { asOf }, signal),
    enabled: asOf !== undefined,
    placeholderData: (prev) => prev,
  });
  const timeline = asOf === undefined ? now : then;
  const bounds = useMemo(() => timeBounds(now.data?.entries ?? []), [now.data]);

  const timers = useRef<ReturnType<typeof setTimeout>[]>([]);
  useEffect(() => () => timers.current.forEach(clearTimeout), []);
  const refresh = useCallback(() => {
    void client.invalidateQueries({ queryKey: ['customer', id] });
    for (const ms of LIVE_REREADS_MS)
      timers.current.push(setTimeout(() => void client.invalidateQueries({ queryKey: ['customer', id, 'state'] }), ms));
  }, [client, id]);
  const live = useLive('/v1/events/stream', { customerId: id }, (e) => {
    if (e.event === 'event') refresh();
  });

  const setAsOf = (next: string | undefined) =>
    setParams(
      (p) => {
        const q = new URLSearchParams(p);
        if (next) q.set('asOf', next);
        else q.delete('asOf');
        return q;
      },
      { replace: true },
    );

  const c = customer.data;
  const stages = stageHistory(now.data?.entries ?? []);
  return (
    <>
      <PageHeading actions={<LiveStatus status={live} />}>{`Customer ${id}`}</PageHeading>
      <p>
        <Link to="/customers">← All customers</Link>
      </p>
      <ErrorMessage error={customer.error} title={asOf ? `The customer as of ${asOf}` : 'The customer'} />
      {customer.isPending ? <Loading /> : null}
      {c ? (
        <div className="grid2">
          <Section id="state" title={asOf ? 'State as of then' : 'State'}>
            <dl className="facts">
              <dt>Stage</dt>
              <dd>
                {c.stage ?? 'not identified'}
                {c.stageSince ? <span className="muted"> since {formatTime(c.stageSince)}</span> : null}
              </dd>
              <dt>Health</dt>
              <dd>
                <span className={`badge ${healthTone(c.health)}`}>{c.health} / 100</span>
              </dd>
              <dt>Segments</dt>
              <dd>
                {c.segments.length
                  ? c.segments.map((s) => (
                      <span key={s} className="badge">
                        {s}
                      </span>
                    ))
                  : 'none'}
              </dd>
              <dt>First seen</dt>
              <dd>{formatTime(c.firstSeen)}</dd>
              <dt>Last seen</dt>
              <dd>{formatTime(c.lastSeen)}</dd>
              <dt>Interactions</dt>
              <dd>
                {c.interactions.total} events, {c.pageViews} page views
              </dd>
              <dt>Messages</dt>
              <dd>
                {Object.entries(c.messages)
                  .filter(([, n]) => n > 0)
                  .map(([k, n]) => `${n} ${k}`)
                  .join(', ') || 'none'}
              </dd>
              {c.accounts.length ? (
                <>
                  <dt>Accounts</dt>
                  <dd>{c.accounts.join(', ')}</dd>
                </>
              ) : null}
              {c.mergedInto ? (
                <>
                  <dt>Merged into</dt>
                  <dd>
                    <Link to={`/customers/${encodeURIComponent(c.mergedInto)}`}>{c.mergedInto}</Link>
                  </dd>
                </>
              ) : null}
              {c.forgotten ? (
                <>
                  <dt>Forgotten</dt>
                  <dd>personal data erased</dd>
                </>
              ) : null}
            </dl>
          </Section>
          <Section id="traits" title="Traits">
            <DataTable
              caption="Traits"
              columns={['Trait', 'Value']}
              rows={Object.entries(c.traits).map(([k, v]) => [k, typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)])}
            />
          </Section>
        </div>
      ) : null}

      <Section id="stages" title="Stage history">
        <DataTable
          caption="Stage changes, oldest first"
          columns={['When', 'From', 'To', 'Why']}
          rows={stages.map((s) => [formatTime(s.at), s.from, s.to, s.reason])}
          csvRows={stages.map((s) => [s.at, s.from, s.to, s.reason])}
        />
      </Section>

      <Section id="timeline" title="Timeline">
        <ErrorMessage error={now.error} title="The timeline" />
        {bounds ? (
          <AsOfControl key={`${asOf ?? 'now'}|${bounds.first}|${bounds.last}`} bounds={bounds} asOf={asOf} onChange={setAsOf} />
        ) : null}
        <ErrorMessage error={then.error} title={`The timeline as of ${asOf ?? ''}`} />
        {timeline.isPending && (asOf === undefined || !then.data) ? <Loading label="Loading the timeline…" /> : null}
        {timeline.data ? (
          <>
            <p className="muted" role="status" aria-live="polite">
              {timeline.data.entries.length} event{timeline.data.entries.length === 1 ? '' : 's'}
              {asOf ? ` as of ${formatTime(asOf)}` : ''}
            </p>
            <TimelineList customerId={id} entries={timeline.data.entries} explainable={canWork} />
          </>
        ) : null}
      </Section>

      <div className="grid2">
        <UpcomingSection path={path} customerId={id} />
        <InboxSection path={path} customerId={id} explainable={canWork} />
        <TasksSection customer={c} customerId={id} canWork={canWork} />
        <ConversationsSection path={path} customerId={id} />
      </div>

      <Section id="why-not" title="Why didn't this customer get a trigger?">
        <WhyNot customerId={id} />
      </Section>
    </>
  );
}

function UpcomingSection({ path, customerId }: { path: string; customerId: string }) {
  const api = useApi();
  const q = useQuery({
    queryKey: ['customer', customerId, 'upcoming'],
    queryFn: ({ signal }) => api.get<Upcoming>(`${path}/upcoming`, undefined, signal),
  });
  return (
    <Section id="upcoming" title="Upcoming">
      <ErrorMessage error={q.error} title="The upcoming timeline" />
      {q.isPending ? <Loading /> : null}
      {q.data ? (
        <>
          <p className="muted">
            Pending timers until {formatTime(q.data.horizon)}
            {q.data.timeZone ? ` (customer's time zone ${q.data.timeZone})` : ''}
          </p>
          {q.data.timers.length === 0 ? <p>Nothing pending.</p> : null}
          <ul className="plain">
            {q.data.timers.map((t) => (
              <li key={t.timerId}>
                <strong>{t.dueLocal ?? formatTime(t.dueAt)}</strong> <span className="muted">({relative(t.dueAt)})</span>
                <br />
                {t.description}
              </li>
            ))}
          </ul>
          {q.data.decisions.length ? (
            <>
              <h3>If nothing changes</h3>
              <ul className="plain">
                {q.data.decisions.map((d, i) => (
                  <li key={i}>{d.description ?? `${d.kind ?? 'decision'} at ${d.atLocal ?? formatTime(d.at)}`}</li>
                ))}
              </ul>
            </>
          ) : null}
        </>
      ) : null}
    </Section>
  );
}

function InboxSection({ path, customerId, explainable }: { path: string; customerId: string; explainable: boolean }) {
  const api = useApi();
  const q = useQuery({
    queryKey: ['customer', customerId, 'inbox'],
    queryFn: ({ signal }) =>
      api.get<{ messages: { messageId: string; subject?: string; body: string; deliveredAt: string; opened: boolean }[] }>(
        `${path}/inbox`,
        undefined,
        signal,
      ),
  });
  return (
    <Section id="inbox" title="Inbox">
      <ErrorMessage error={q.error} title="The inbox" />
      {q.isPending ? <Loading /> : null}
      {q.data ? (
        <DataTable
          caption="In-app messages delivered, newest first"
          columns={['Delivered', 'Subject', 'Opened', 'Explain']}
          rows={q.data.messages.map((m) => [
            formatTime(m.deliveredAt),
            m.subject ?? m.body.slice(0, 60),
            m.opened ? 'yes' : 'no',
            explainable ? (
              <Link to={`/customers/${encodeURIComponent(customerId)}/messages/${encodeURIComponent(m.messageId)}`}>
                Explain<span className="visually-hidden"> {m.subject ?? m.messageId}</span>
              </Link>
            ) : (
              '—'
            ),
          ])}
          csvRows={q.data.messages.map((m) => [m.deliveredAt, m.subject ?? '', m.opened, m.messageId])}
        />
      ) : null}
    </Section>
  );
}

function TasksSection({ customer, customerId, canWork }: { customer?: CustomerView; customerId: string; canWork: boolean }) {
  const tasks = customer?.openTasks ?? [];
  return (
    <Section id="tasks" title="Tasks">
      {customer ? (
        <>
          <DataTable
            caption={`Open tasks (${customer.closedTasks} closed)`}
            columns={['Task', 'Owner', 'Priority', 'Due', 'Opened']}
            rows={tasks.map((t) => [
              canWork ? (
                <Link to={`/work/customers/${encodeURIComponent(customerId)}/tasks/${encodeURIComponent(t.taskId)}`}>{t.title}</Link>
              ) : (
                t.title
              ),
              t.owner ?? '—',
              t.priority ?? '—',
              formatTime(t.dueAt),
              formatTime(t.openedAt),
            ])}
            csvRows={tasks.map((t) => [t.title, t.owner ?? '', t.priority ?? '', t.dueAt ?? '', t.openedAt])}
          />
        </>
      ) : (
        <Loading />
      )}
    </Section>
  );
}

function ConversationsSection({ path, customerId }: { path: string; customerId: string }) {
  const api = useApi();
  const q = useQuery({
    queryKey: ['customer', customerId, 'conversations'],
    queryFn: ({ signal }) => api.get<{ conversations: Conversation[] }>(`${path}/conversations`, undefined, signal),
  });
  const list = q.data?.conversations ?? [];
  return (
    <Section id="conversations" title="Conversations">
      <ErrorMessage error={q.error} title="The conversations" />
      {q.isPending ? <Loading /> : null}
      {q.data ? (
        <DataTable
          caption="Conversations, newest first"
          columns={['Conversation', 'Status', 'Channel', 'Held by', 'Started']}
          rows={list.map((c) => [
            <Link
              key={c.conversationId}
              to={`/work/customers/${encodeURIComponent(customerId)}/conversations/${encodeURIComponent(c.conversationId)}`}
            >
              {c.subject ?? c.conversationId}
            </Link>,
            c.status,
            c.channel,
            c.assignee ?? c.team ?? '—',
            formatTime(c.startedAt),
          ])}
          csvRows={list.map((c) => [c.conversationId, c.status, c.channel, c.assignee ?? c.team ?? '', c.startedAt ?? ''])}
        />
      ) : null}
    </Section>
  );
}
