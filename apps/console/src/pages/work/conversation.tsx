import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { ErrorMessage, Loading, PageHeading } from '../../components/ui';
import { ApiError } from '../../lib/api';
import { formatTime } from '../../lib/format';
import { useApi, useCan, useSession } from '../../lib/session';
import { LiveStatus, useLive } from '../../lib/use-live';
import { ContextPanel } from './context-panel';
import { useMembers, useTeams } from './data';
import { groupThread, ifMatch, parseSnoozeUntil, PRIORITIES, snoozePresets, toLocalInput, type Conversation } from './logic';

type Which = 'reply' | 'note' | 'assign' | 'snooze' | 'resolve' | 'reopen';
interface ActionInput {
  which: Which;
  path: string;
  body?: unknown;
}

/** A conversation: its thread (internal notes marked), the customer's context beside it, and the agent's actions. */
export function ConversationPage() {
  const { customerId = '', conversationId = '' } = useParams();
  const api = useApi();
  const client = useQueryClient();
  const mayWork = useCan('work');
  const base = `/v1/customers/${encodeURIComponent(customerId)}/conversations/${encodeURIComponent(conversationId)}`;
  const key = ['conversation', customerId, conversationId];
  const conversation = useQuery({
    queryKey: key,
    queryFn: ({ signal }) => api.get<Conversation>(base, undefined, signal),
  });
  const [conflict, setConflict] = useState<string>();

  // a change of this conversation by someone else (or the customer writing): read it again
  const live = useLive('/v1/work/stream', undefined, (event) => {
    if (event.event !== 'work') return;
    try {
      const change = JSON.parse(event.data) as { itemId?: string };
      if (change.itemId === conversationId) void client.invalidateQueries({ queryKey: key });
    } catch {
      /* not a change */
    }
  });

  const act = useMutation({
    mutationFn: ({ path, body }: ActionInput) =>
      api.post<Conversation>(`${base}/${path}`, body, { headers: ifMatch(conversation.data?.version ?? 0) }),
    onMutate: () => setConflict(undefined),
    onSuccess: (after) => {
      client.setQueryData(key, after);
      void client.invalidateQueries({ queryKey: ['work'] });
      void client.invalidateQueries({ queryKey: ['context', customerId] });
    },
    onError: (error) => {
      if (error instanceof ApiError && error.status === 412) {
        setConflict(error.message);
        void client.invalidateQueries({ queryKey: key });
      }
    },
  });
  const errorOf = (which: Which) =>
    act.variables?.which === which && !(act.error instanceof ApiError && act.error.status === 412) ? act.error : null;
  const run = (input: ActionInput, done?: () => void) => act.mutate(input, { onSuccess: () => done?.() });

  const c = conversation.data;
  return (
    <>
      <PageHeading actions={<LiveStatus status={live} />}>{`Conversation with ${customerId}`}</PageHeading>
      <p>
        <Link to="/work">Back to the queue</Link>
      </p>
      <div className="grid2">
        <div>
          <ErrorMessage error={conversation.error} title="Could not read the conversation" />
          {conversation.isPending ? <Loading label="Reading the conversation…" /> : null}
          {conflict ? (
            <div role="alert" className="error">
              <strong>Someone changed this conversation since you read it</strong> ({conflict}). It has been read again: check the thread
              below, then do it again if it still needs doing.
            </div>
          ) : null}
          {c ? (
            <>
              <Summary conversation={c} />
              <Thread conversation={c} />
              {mayWork ? (
                <Actions conversation={c} busy={act.isPending ? act.variables?.which : undefined} errorOf={errorOf} run={run} />
              ) : null}
            </>
          ) : null}
        </div>
        <ContextPanel customerId={customerId} current={conversationId} />
      </div>
    </>
  );
}

function Summary({ conversation: c }: { conversation: Conversation }) {
  const tone = c.status === 'resolved' ? 'ok' : c.status === 'snoozed' ? 'warn' : '';
  return (
    <section aria-labelledby="state-h" className="panel">
      <h2 id="state-h">{c.subject ?? 'State'}</h2>
      <dl className="facts">
        <dt>Status</dt>
        <dd>
          <span className={`badge ${tone}`} data-testid="conversation-status">
            {c.status}
          </span>
          {c.status === 'snoozed' && c.snoozedUntil ? <span className="muted"> until {formatTime(c.snoozedUntil)}</span> : null}
          {c.status === 'resolved' && c.resolvedAt ? (
            <span className="muted">
              {' '}
              {formatTime(c.resolvedAt)}
              {c.resolvedBy ? ` by ${c.resolvedBy}` : ''}
            </span>
          ) : null}
        </dd>
        <dt>Assignee</dt>
        <dd data-testid="conversation-assignee">{c.assignee ?? 'nobody'}</dd>
        <dt>Team</dt>
        <dd>{c.team ?? '—'}</dd>
        <dt>Priority</dt>
        <dd>{c.priority}</dd>
        <dt>Channel</dt>
        <dd>{c.channel}</dd>
        <dt>Waiting on</dt>
        <dd>{c.waitingOn === 'agent' ? 'us (the customer wrote last)' : 'the customer'}</dd>
        {c.tags.length ? (
          <>
            <dt>Tags</dt>
            <dd>
              {c.tags.map((t) => (
                <span key={t} className="badge">
                  {t}
                </span>
              ))}
            </dd>
          </>
        ) : null}
        {c.rating ? (
          <>
            <dt>Rating</dt>
            <dd>
              {c.rating.score}/5{c.rating.comment ? `: ${c.rating.comment}` : ''}
            </dd>
          </>
        ) : null}
      </dl>
    </section>
  );
}

function Thread({ conversation }: { conversation: Conversation }) {
  const days = groupThread(conversation.thread);
  return (
    <section aria-labelledby="thread-h">
      <h2 id="thread-h">Thread</h2>
      {days.length === 0 ? <p className="muted">No message yet.</p> : null}
      {days.map((day) => (
        <div key={day.day}>
          <h3 className="thread-day">{new Date(`${day.day}T12:00:00Z`).toLocaleDateString('en-GB', { dateStyle: 'full' })}</h3>
          <ol className="thread">
            {day.runs.map((run) => (
              <li key={run.entries[0].messageId} className={`run from-${run.from}`}>
                <div className="author">
                  {run.from === 'note' ? (
                    <>
                      <span className="badge warn">Internal note</span> {run.entries[0].by ? `by ${run.entries[0].by}` : ''}
                    </>
                  ) : (
                    run.author
                  )}
                </div>
                {run.entries.map((e) => (
                  <div key={e.messageId} className="entry" data-from={e.from}>
                    <p>{e.body}</p>
                    <div className="muted small">
                      <time dateTime={e.at}>{formatTime(e.at)}</time>
                      {e.channel ? ` · ${e.channel}` : ''}
                      {e.from === 'note' ? ' · only colleagues see it' : ''}
                    </div>
                  </div>
                ))}
              </li>
            ))}
          </ol>
        </div>
      ))}
    </section>
  );
}

function Actions({
  conversation: c,
  busy,
  errorOf,
  run,
}: {
  conversation: Conversation;
  busy?: Which;
  errorOf(which: Which): unknown;
  run(input: ActionInput, done?: () => void): void;
}) {
  const { principal } = useSession();
  const members = useMembers();
  const teams = useTeams();
  const [reply, setReply] = useState('');
  const [note, setNote] = useState('');
  const [assignee, setAssignee] = useState<string>(c.assignee ?? '');
  const [team, setTeam] = useState<string>(c.team ?? '');
  const [priority, setPriority] = useState<string>(c.priority);
  const [until, setUntil] = useState(() => toLocalInput(new Date(Date.now() + 3_600_000)));
  const [snoozeError, setSnoozeError] = useState<string>();
  const resolved = c.status === 'resolved';

  const submit = (which: 'reply' | 'note') => (e: FormEvent) => {
    e.preventDefault();
    const body = (which === 'reply' ? reply : note).trim();
    if (!body) return;
    run({ which, path: which === 'reply' ? 'replies' : 'notes', body: { body } }, () => (which === 'reply' ? setReply('') : setNote('')));
  };
  const assign = (e: FormEvent) => {
    e.preventDefault();
    const body: Record<string, unknown> = { assignee: assignee === '' ? null : assignee, priority };
    if (team) body.team = team;
    run({ which: 'assign', path: 'assign', body });
  };
  const snooze = (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseSnoozeUntil(until, Date.now());
    if ('error' in parsed) return setSnoozeError(parsed.error);
    setSnoozeError(undefined);
    run({ which: 'snooze', path: 'snooze', body: { until: parsed.until } });
  };

  return (
    <section aria-labelledby="actions-h">
      <h2 id="actions-h">Actions</h2>
      {resolved ? (
        <p className="notice">This conversation is resolved: reopen it to reply or change it.</p>
      ) : (
        <div className="grid-actions">
          <form className="panel" onSubmit={submit('reply')} aria-labelledby="reply-h">
            <h3 id="reply-h">Reply to the customer</h3>
            <div className="field">
              <label htmlFor="reply-body">Reply</label>
              <textarea id="reply-body" rows={4} value={reply} onChange={(e) => setReply(e.target.value)} />
            </div>
            <ErrorMessage error={errorOf('reply')} title="The reply was not sent" />
            <button type="submit" className="primary" disabled={!reply.trim() || busy === 'reply'}>
              {busy === 'reply' ? 'Sending…' : 'Send reply'}
            </button>
          </form>
          <form className="panel note-form" onSubmit={submit('note')} aria-labelledby="note-h">
            <h3 id="note-h">Internal note</h3>
            <div className="field">
              <label htmlFor="note-body">Note (only colleagues see it)</label>
              <textarea id="note-body" rows={3} value={note} onChange={(e) => setNote(e.target.value)} />
            </div>
            <ErrorMessage error={errorOf('note')} title="The note was not added" />
            <button type="submit" disabled={!note.trim() || busy === 'note'}>
              {busy === 'note' ? 'Adding…' : 'Add internal note'}
            </button>
          </form>
          <form className="panel" onSubmit={assign} aria-labelledby="assign-h">
            <h3 id="assign-h">Assign</h3>
            <ErrorMessage error={members.error} title="Could not read the members" />
            <ErrorMessage error={teams.error} title="Could not read the teams" />
            <div className="row">
              <div className="field">
                <label htmlFor="assign-member">Member</label>
                <select id="assign-member" value={assignee} onChange={(e) => setAssignee(e.target.value)}>
                  <option value="">Nobody (the team&apos;s queue)</option>
                  {c.assignee && !members.data?.members.some((m) => m.memberId === c.assignee) ? (
                    <option value={c.assignee}>{c.assignee}</option>
                  ) : null}
                  {members.data?.members.map((m) => (
                    <option key={m.memberId} value={m.memberId}>
                      {m.name ? `${m.name} (${m.memberId})` : m.memberId}
                      {m.away ? ' — away' : ''}
                    </option>
                  ))}
                </select>
              </div>
              <div className="field">
                <label htmlFor="assign-team">Team</label>
                <select id="assign-team" value={team} onChange={(e) => setTeam(e.target.value)}>
                  <option value="">{c.team ? 'Keep the team' : 'No team'}</option>
                  {teams.data?.teams.map((t) => (
                    <option key={t.teamId} value={t.teamId}>
                      {t.name ?? t.teamId}
                    </option>
                  ))}
                </select>
              </div>
              <div className="field">
                <label htmlFor="assign-priority">Priority</label>
                <select id="assign-priority" value={priority} onChange={(e) => setPriority(e.target.value)}>
                  {PRIORITIES.map((p) => (
                    <option key={p} value={p}>
                      {p}
                    </option>
                  ))}
                </select>
              </div>
            </div>
            <ErrorMessage error={errorOf('assign')} title="Not assigned" />
            <div className="row">
              <button type="submit" disabled={busy === 'assign'}>
                Assign
              </button>
              {principal?.memberId && c.assignee !== principal.memberId ? (
                <button
                  type="button"
                  className="primary"
                  disabled={busy === 'assign'}
                  onClick={() =>
                    run({ which: 'assign', path: 'assign', body: { assignee: principal.memberId } }, () =>
                      setAssignee(principal.memberId ?? ''),
                    )
                  }
                >
                  Assign to me
                </button>
              ) : null}
            </div>
          </form>
          <form className="panel" onSubmit={snooze} aria-labelledby="snooze-h">
            <h3 id="snooze-h">Snooze</h3>
            <div className="row">
              <div className="field">
                <label htmlFor="snooze-until">Snooze until</label>
                <input id="snooze-until" type="datetime-local" value={until} onChange={(e) => setUntil(e.target.value)} />
              </div>
              {snoozePresets(new Date()).map((p) => (
                <button key={p.label} type="button" className="link" onClick={() => setUntil(toLocalInput(p.at))}>
                  {p.label}
                </button>
              ))}
            </div>
            {snoozeError ? (
              <div role="alert" className="error">
                {snoozeError}
              </div>
            ) : null}
            <ErrorMessage error={errorOf('snooze')} title="Not snoozed" />
            <button type="submit" disabled={busy === 'snooze'}>
              Snooze
            </button>
          </form>
        </div>
      )}
      <div className="row end-actions">
        {!resolved ? (
          <button
            type="button"
            className="primary"
            disabled={busy === 'resolve'}
            onClick={() => run({ which: 'resolve', path: 'resolve' })}
          >
            {busy === 'resolve' ? 'Resolving…' : 'Resolve'}
          </button>
        ) : null}
        {c.status !== 'open' ? (
          <button type="button" disabled={busy === 'reopen'} onClick={() => run({ which: 'reopen', path: 'reopen' })}>
            Reopen
          </button>
        ) : null}
      </div>
      <ErrorMessage error={errorOf('resolve')} title="Not resolved" />
      <ErrorMessage error={errorOf('reopen')} title="Not reopened" />
    </section>
  );
}
