import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { ErrorMessage, Loading, PageHeading } from '../../components/ui';
import { formatTime } from '../../lib/format';
import { useApi, useCan, useSession } from '../../lib/session';
import { ContextPanel } from './context-panel';
import { useCustomerContext, useMembers, useNow } from './data';
import { slaState } from './logic';

/** A CSM task (opened by a trigger's `task` step): what it asks, the customer's context, assign it, close it with an outcome. */
export function TaskPage() {
  const { customerId = '', taskId = '' } = useParams();
  const api = useApi();
  const client = useQueryClient();
  const mayWork = useCan('work');
  const { principal } = useSession();
  const context = useCustomerContext(customerId);
  const members = useMembers();
  const now = useNow(1000);
  const task = context.data?.openTasks.find((t) => t.taskId === taskId);
  const [outcome, setOutcome] = useState('');
  const [owner, setOwner] = useState('');
  const [closed, setClosed] = useState<string>();
  const base = `/v1/customers/${encodeURIComponent(customerId)}/tasks/${encodeURIComponent(taskId)}`;

  const refresh = () => {
    void client.invalidateQueries({ queryKey: ['context', customerId] });
    void client.invalidateQueries({ queryKey: ['work'] });
  };
  const close = useMutation({
    mutationFn: (text: string) => api.post(`${base}/close`, { outcome: text }),
    onSuccess: (_, text) => {
      setClosed(text);
      setOutcome('');
      refresh();
    },
  });
  const assign = useMutation({
    mutationFn: (assignee: string) => api.post(`${base}/assign`, { assignee }),
    onSuccess: refresh,
  });

  const onClose = (e: FormEvent) => {
    e.preventDefault();
    if (outcome.trim()) close.mutate(outcome.trim());
  };
  const onAssign = (e: FormEvent) => {
    e.preventDefault();
    if (owner) assign.mutate(owner);
  };

  const sla = task ? slaState({ kind: 'task', dueAt: task.dueAt ?? null, slaBreached: false }, now) : undefined;
  return (
    <>
      <PageHeading>{task ? `Task: ${task.title}` : `Task of ${customerId}`}</PageHeading>
      <p>
        <Link to="/work">Back to the queue</Link>
      </p>
      <div className="grid2">
        <div>
          {closed ? (
            <p role="status" className="notice">
              Task closed with the outcome “{closed}”.
            </p>
          ) : null}
          <ErrorMessage error={context.error} title="Could not read the task" />
          {context.isPending ? <Loading label="Reading the task…" /> : null}
          {context.data && !task && !closed ? (
            <p className="notice">This task is not open: it was closed already, or never opened for {customerId}.</p>
          ) : null}
          {task ? (
            <>
              <section aria-labelledby="task-h" className="panel">
                <h2 id="task-h">The task</h2>
                <dl className="facts">
                  <dt>Title</dt>
                  <dd>{task.title}</dd>
                  <dt>Owner</dt>
                  <dd data-testid="task-owner">{task.owner ?? 'nobody'}</dd>
                  <dt>Priority</dt>
                  <dd>{task.priority ?? 'normal'}</dd>
                  <dt>Opened</dt>
                  <dd>{formatTime(task.openedAt)}</dd>
                  <dt>Due</dt>
                  <dd>
                    {task.dueAt ? (
                      <>
                        {formatTime(task.dueAt)} <span className={`badge ${sla?.tone === 'none' ? '' : sla?.tone}`}>{sla?.text}</span>
                      </>
                    ) : (
                      'no due time'
                    )}
                  </dd>
                  {task.triggerId ? (
                    <>
                      <dt>Opened by trigger</dt>
                      <dd>
                        <Link to={`/triggers/${encodeURIComponent(task.triggerId)}`}>{task.triggerId}</Link>
                      </dd>
                    </>
                  ) : null}
                </dl>
              </section>
              {mayWork ? (
                <>
                  <form className="panel" onSubmit={onAssign} aria-labelledby="task-assign-h">
                    <h2 id="task-assign-h">Assign</h2>
                    <ErrorMessage error={members.error} title="Could not read the members" />
                    <div className="row">
                      <div className="field">
                        <label htmlFor="task-owner">Member</label>
                        <select id="task-owner" value={owner} onChange={(e) => setOwner(e.target.value)}>
                          <option value="">Choose a member</option>
                          {members.data?.members.map((m) => (
                            <option key={m.memberId} value={m.memberId}>
                              {m.name ? `${m.name} (${m.memberId})` : m.memberId}
                            </option>
                          ))}
                        </select>
                      </div>
                      <button type="submit" disabled={!owner || assign.isPending}>
                        Assign
                      </button>
                      {principal?.memberId && task.owner !== principal.memberId ? (
                        <button type="button" disabled={assign.isPending} onClick={() => assign.mutate(principal.memberId!)}>
                          Assign to me
                        </button>
                      ) : null}
                    </div>
                    <ErrorMessage error={assign.error} title="Not assigned" />
                  </form>
                  <form className="panel" onSubmit={onClose} aria-labelledby="task-close-h">
                    <h2 id="task-close-h">Close with an outcome</h2>
                    <div className="field">
                      <label htmlFor="task-outcome">Outcome (what came of it)</label>
                      <textarea id="task-outcome" rows={3} maxLength={2000} value={outcome} onChange={(e) => setOutcome(e.target.value)} />
                    </div>
                    <ErrorMessage error={close.error} title="The task was not closed" />
                    <button type="submit" className="primary" disabled={!outcome.trim() || close.isPending}>
                      {close.isPending ? 'Closing…' : 'Close task'}
                    </button>
                  </form>
                </>
              ) : null}
            </>
          ) : null}
        </div>
        <ContextPanel customerId={customerId} current={taskId} />
      </div>
    </>
  );
}
