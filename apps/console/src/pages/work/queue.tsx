import { useInfiniteQuery, useQueryClient } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef } from 'react';
import { Link, useSearchParams } from 'react-router';
import { ErrorMessage, Loading, PageHeading } from '../../components/ui';
import { formatTime } from '../../lib/format';
import { useApi, useSession } from '../../lib/session';
import { LiveStatus, useLive } from '../../lib/use-live';
import { useMembers, useNow, useTeams } from './data';
import { itemPath, mergePages, PRIORITIES, scopeQuery, slaState, type WorkItem, type WorkPage } from './logic';

export const PAGE_SIZE = 50;
/** After a live change, the queue is read again after these delays too (ms). */
const LIVE_REREADS_MS = [1000, 3000, 8000];

/** The choices of "Whose work": a csm their own and their teams' queues; admin and analyst keys anyone's. */
function useWhoseOptions(): { value: string; label: string }[] {
  const { principal } = useSession();
  const members = useMembers();
  const teams = useTeams();
  const isCsm = principal?.role === 'csm';
  const me = members.data?.members.find((m) => m.memberId === principal?.memberId);
  const options: { value: string; label: string }[] = [];
  if (isCsm || principal?.memberId) options.push({ value: 'me', label: 'Mine' });
  if (isCsm) {
    for (const t of me?.teams ?? []) options.push({ value: `queue:${t}`, label: `Unassigned in ${t}` });
    return options;
  }
  options.push({ value: 'all', label: 'Everyone' });
  for (const t of teams.data?.teams ?? []) options.push({ value: `queue:${t.teamId}`, label: `Unassigned in ${t.name ?? t.teamId}` });
  for (const m of members.data?.members ?? [])
    if (m.memberId !== principal?.memberId) options.push({ value: `member:${m.memberId}`, label: `${m.name ?? m.memberId}'s` });
  return options;
}

/** The CSM's queue: their open conversations and tasks, what is due first, with live SLA countdowns; live. */
export function QueuePage() {
  const api = useApi();
  const { principal } = useSession();
  const client = useQueryClient();
  const [params, setParams] = useSearchParams();
  const defaultWhose = principal?.role === 'csm' || principal?.memberId ? 'me' : 'all';
  const whose = params.get('whose') ?? defaultWhose;
  const status = params.get('status') ?? '';
  const priority = params.get('priority') ?? '';
  const kind = params.get('kind') ?? '';
  const options = useWhoseOptions();
  const scope = useMemo(() => scopeQuery(whose), [whose]);
  const filters = useMemo(() => ({ status, priority, kind }), [status, priority, kind]);

  const work = useInfiniteQuery({
    queryKey: ['work', scope, filters],
    queryFn: ({ pageParam, signal }) =>
      api.get<WorkPage>('/v1/work', { ...scope, ...filters, limit: PAGE_SIZE, cursor: pageParam }, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor,
  });

  // every change in the queue: read it again now, and a few times shortly after (the queue's read model follows the
  // log a little behind the live feed)
  const later = useRef<ReturnType<typeof setTimeout>[]>([]);
  useEffect(() => () => later.current.forEach(clearTimeout), []);
  const live = useLive('/v1/work/stream', scope, (event) => {
    if (event.event !== 'work') return;
    const refetch = () => void client.invalidateQueries({ queryKey: ['work'] });
    refetch();
    later.current.forEach(clearTimeout);
    later.current = LIVE_REREADS_MS.map((ms) => setTimeout(refetch, ms));
  });

  const set = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };

  const items = useMemo(() => mergePages(work.data?.pages ?? []), [work.data]);
  const now = useNow(1000);
  const breached = items.filter((i) => slaState(i, now).breached).length;

  return (
    <>
      <PageHeading actions={<LiveStatus status={live} />}>Work</PageHeading>
      <section aria-labelledby="filters-h" className="panel work-filters">
        <h2 id="filters-h">Filters</h2>
        <div className="row">
          <div className="field">
            <label htmlFor="f-whose">Whose work</label>
            <select id="f-whose" value={whose} onChange={(e) => set('whose', e.target.value === defaultWhose ? '' : e.target.value)}>
              {(options.some((o) => o.value === whose) ? options : [...options, { value: whose, label: whose }]).map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="f-status">Status</label>
            <select id="f-status" value={status} onChange={(e) => set('status', e.target.value)}>
              <option value="">Open and snoozed</option>
              <option value="open">Open</option>
              <option value="snoozed">Snoozed</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="f-priority">Priority</label>
            <select id="f-priority" value={priority} onChange={(e) => set('priority', e.target.value)}>
              <option value="">Any</option>
              {PRIORITIES.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="f-kind">Kind</label>
            <select id="f-kind" value={kind} onChange={(e) => set('kind', e.target.value)}>
              <option value="">Conversations and tasks</option>
              <option value="conversation">Conversations</option>
              <option value="task">Tasks</option>
            </select>
          </div>
        </div>
      </section>

      <section aria-labelledby="queue-h">
        <h2 id="queue-h">Queue</h2>
        <ErrorMessage error={work.error} title="Could not read the queue" />
        {work.isPending ? (
          <Loading label="Reading the queue…" />
        ) : work.data ? (
          <>
            <p className="muted">
              {items.length} item{items.length === 1 ? '' : 's'}
              {work.hasNextPage ? ' shown (more below)' : ''}, what is due first.
              {breached ? (
                <>
                  {' '}
                  <span className="badge danger">{breached} breached</span>
                </>
              ) : null}
            </p>
            <QueueTable items={items} now={now} />
            {work.hasNextPage ? (
              <button type="button" onClick={() => void work.fetchNextPage()} disabled={work.isFetchingNextPage}>
                {work.isFetchingNextPage ? 'Loading…' : 'Load more'}
              </button>
            ) : null}
          </>
        ) : null}
      </section>
    </>
  );
}

/** The item's link: its title, else what it is and whose (distinct per customer). */
const itemLabel = (item: WorkItem) => item.title || `${item.kind === 'task' ? 'Task' : 'Conversation'} with ${item.customerId}`;

/** More items than this: only the rows in view are rendered (a scrolling table). */
export const VIRTUAL_FROM = 100;
const ROW_HEIGHT = 64;

export function QueueTable({ items, now }: { items: WorkItem[]; now: number }) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = items.length > VIRTUAL_FROM;
  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualiser is read during render only
  const virtualizer = useVirtualizer({
    count: virtual ? items.length : 0,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const shown = virtual ? virtualizer.getVirtualItems() : [];
  const padTop = shown[0]?.start ?? 0;
  const padBottom = virtual ? virtualizer.getTotalSize() - (shown.at(-1)?.end ?? 0) : 0;
  const rows = virtual ? shown.map((v) => ({ item: items[v.index], index: v.index })) : items.map((item, index) => ({ item, index }));
  const table = (
    <table className="work-queue">
      <caption>Open conversations and tasks, what is due first</caption>
      <thead>
        <tr>
          <th scope="col">SLA</th>
          <th scope="col">Item</th>
          <th scope="col">Kind</th>
          <th scope="col">Priority</th>
          <th scope="col">Status</th>
          <th scope="col">Held by</th>
          <th scope="col">Last message</th>
          <th scope="col">Changed</th>
        </tr>
      </thead>
      <tbody>
        {items.length === 0 ? (
          <tr>
            <td colSpan={8} className="muted">
              Nothing to do here.
            </td>
          </tr>
        ) : null}
        {padTop > 0 ? (
          <tr aria-hidden="true">
            <td colSpan={8} style={{ height: padTop, padding: 0, border: 0 }} />
          </tr>
        ) : null}
        {rows.map(({ item, index }) => {
          const sla = slaState(item, now);
          return (
            <tr
              key={`${item.kind}:${item.itemId}`}
              className={sla.breached ? 'breached' : undefined}
              data-item={item.itemId}
              data-index={index}
              ref={virtual ? virtualizer.measureElement : undefined}
            >
              <td>
                <span className={`sla badge ${sla.tone === 'none' ? '' : sla.tone}`}>
                  {item.dueAt ? <time dateTime={item.dueAt}>{sla.text}</time> : sla.text}
                </span>
              </td>
              <th scope="row">
                <Link to={itemPath(item)}>{itemLabel(item)}</Link>
                <div className="muted">
                  {item.customerId}
                  {item.channel ? ` · ${item.channel}` : ''}
                </div>
              </th>
              <td>{item.kind}</td>
              <td>{item.priority}</td>
              <td>{item.status}</td>
              <td>
                {item.assignee ?? <span className="muted">nobody</span>}
                {item.team ? <div className="muted">{item.team}</div> : null}
              </td>
              <td className="preview">
                {item.preview ? (
                  <>
                    <span className="muted">
                      {item.lastFrom === 'agent' ? 'Agent: ' : item.lastFrom === 'customer' ? 'Customer: ' : ''}
                    </span>
                    {item.preview}
                  </>
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
              <td>{formatTime(item.updatedAt)}</td>
            </tr>
          );
        })}
        {padBottom > 0 ? (
          <tr aria-hidden="true">
            <td colSpan={8} style={{ height: padBottom, padding: 0, border: 0 }} />
          </tr>
        ) : null}
      </tbody>
    </table>
  );
  return virtual ? (
    <div ref={scroller} className="virtual work-scroll" tabIndex={0} role="region" aria-label={`Queue of ${items.length} items (scrolls)`}>
      {table}
    </div>
  ) : (
    <div className="table-wrap">{table}</div>
  );
}
