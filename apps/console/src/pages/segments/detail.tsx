import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, useState } from 'react';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { ConfirmDialog, DataTable, ErrorMessage, Loading, PageHeading } from '../../components/ui';
import { formatTime } from '../../lib/format';
import { useApi, useCan } from '../../lib/session';
import { BroadcastsSection } from './broadcasts';
import { getSegment } from './queries';
import { Chart, SERIES } from '../../components/chart';
import { definitionToYaml, type SegmentDefinition } from './segment-doc';
import { countsSummary, dayBefore, type SegmentDay } from './shape';

export interface SegmentDetail {
  id: string;
  name: string;
  version: number;
  removed: boolean;
  members: number;
  description?: string;
  definition: SegmentDefinition;
  versions: { version: number; definedAt: string; definedBy: string }[];
  backfill?: { of: string; version: number; customers: number; done: boolean };
}

interface MembersPage {
  segmentId: string;
  total: number;
  members: { customerId: string; enteredAt: string; version: number }[];
  next?: string;
}

export function SegmentDetailPage() {
  const { id = '' } = useParams();
  const api = useApi();
  const canEdit = useCan('editSegments');
  const location = useLocation();
  const navigate = useNavigate();
  const client = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const segment = useQuery({
    queryKey: ['segment', id],
    queryFn: () => getSegment<SegmentDetail>(api, id),
    // the backfill and the members move while the engine evaluates the customers
    refetchInterval: (q) => (q.state.data && q.state.data.backfill && !q.state.data.backfill.done ? 1000 : 5000),
  });
  const remove = useMutation({
    mutationFn: () =>
      api.delete<{ removed: boolean }>(`/v1/segments/${encodeURIComponent(id)}`, {
        headers: segment.data ? { 'if-match': `"${segment.data.version}"` } : {},
      }),
    onSuccess: async () => {
      setConfirming(false);
      await client.invalidateQueries({ queryKey: ['segments'] });
      await client.invalidateQueries({ queryKey: ['segment', id] });
      void navigate('/segments');
    },
    onError: () => setConfirming(false),
  });
  const saved = (location.state as { saved?: { version: number; changed: boolean } } | null)?.saved;
  const s = segment.data;
  return (
    <>
      <PageHeading
        actions={
          canEdit && s && !s.removed ? (
            <>
              <Link className="button primary" to={`/segments/${encodeURIComponent(id)}/edit`}>
                Edit segment
              </Link>
              <Link className="button" to={`/segments/broadcasts/new?segment=${encodeURIComponent(id)}`}>
                Broadcast to this segment
              </Link>
              <button type="button" className="danger" onClick={() => setConfirming(true)}>
                Delete segment
              </button>
            </>
          ) : undefined
        }
      >
        {`Segment ${id}`}
      </PageHeading>
      <p>
        <Link to="/segments">All segments</Link>
      </p>
      {saved ? (
        <p role="status" className="notice">
          {saved.changed ? `Saved as version ${saved.version}.` : `The document is the same as version ${saved.version}: nothing changed.`}
        </p>
      ) : null}
      <ErrorMessage error={segment.error} title="Could not load the segment" />
      <ErrorMessage error={remove.error} title="Could not delete the segment" />
      {segment.isPending ? <Loading label="Loading the segment…" /> : null}
      {s ? (
        <>
          <section aria-labelledby="def-h" className="panel">
            <h2 id="def-h">{s.name}</h2>
            {s.removed ? <p className="notice">This segment was removed: its members left.</p> : null}
            {s.description ? <p>{s.description}</p> : null}
            <div className="cards">
              <div className="card">
                <div className="muted">Members now</div>
                <div className="figure" data-testid="members-now">
                  {s.members}
                </div>
              </div>
              <div className="card">
                <div className="muted">Version</div>
                <div className="figure">{s.version}</div>
              </div>
              <div className="card">
                <div className="muted">Evaluation of existing customers</div>
                <div>
                  {s.backfill
                    ? `${s.backfill.done ? 'done' : 'in progress'}: ${s.backfill.customers} customer${s.backfill.customers === 1 ? '' : 's'} (v${s.backfill.version})`
                    : 'not started'}
                </div>
              </div>
            </div>
            <h3>Definition</h3>
            <pre className="seg-def">{definitionToYaml(s.definition)}</pre>
            <DataTable
              caption="Versions"
              filename={`segment-${id}-versions.csv`}
              columns={['Version', 'Defined at', 'By']}
              rows={s.versions.map((v) => [v.version, formatTime(v.definedAt), v.definedBy])}
              csvRows={s.versions.map((v) => [v.version, v.definedAt, v.definedBy])}
            />
          </section>
          <div className="grid2 seg-grid">
            <CountsSection id={id} />
            <MembersSection id={id} />
          </div>
          <BroadcastsSection segmentId={id} />
        </>
      ) : null}
      <ConfirmDialog
        open={confirming}
        title={`Delete segment ${id}?`}
        confirmLabel={remove.isPending ? 'Deleting…' : 'Delete segment'}
        onConfirm={() => remove.mutate()}
        onCancel={() => setConfirming(false)}
      >
        <p>
          Its {s?.members ?? 0} member{s?.members === 1 ? '' : 's'} leave it (reason <code>segment-removed</code>); triggers that use{' '}
          <code>inSegment: {id}</code> stop matching them. Its history stays.
        </p>
      </ConfirmDialog>
    </>
  );
}

const PERIODS = [7, 30, 90, 365];

function CountsSection({ id }: { id: string }) {
  const api = useApi();
  const [days, setDays] = useState(30);
  const to = new Date().toISOString().slice(0, 10);
  const from = dayBefore(to, days - 1);
  const counts = useQuery({
    queryKey: ['segment-counts', id, from, to],
    queryFn: () => api.get<{ days: SegmentDay[] }>(`/v1/segments/${encodeURIComponent(id)}/counts`, { from, to }),
    refetchInterval: 5000,
  });
  const data = counts.data?.days ?? [];
  return (
    <section aria-labelledby="counts-h">
      <h2 id="counts-h">Counts over time</h2>
      <div className="field seg-period">
        <label htmlFor="counts-period">Period</label>
        <select id="counts-period" value={days} onChange={(e) => setDays(Number(e.target.value))}>
          {PERIODS.map((d) => (
            <option key={d} value={d}>
              Last {d} days
            </option>
          ))}
        </select>
      </div>
      <ErrorMessage error={counts.error} title="Could not load the counts" />
      {counts.isPending ? <Loading label="Loading the counts…" /> : null}
      {counts.data ? (
        <>
          <Chart label={countsSummary(data)}>
            <ResponsiveContainer width="100%" height="100%">
              <LineChart data={data} accessibilityLayer={false} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
                <CartesianGrid strokeDasharray="3 3" />
                <XAxis dataKey="day" tick={{ fontSize: 12 }} minTickGap={24} />
                <YAxis allowDecimals={false} tick={{ fontSize: 12 }} />
                <Tooltip />
                <Legend />
                <Line
                  type="monotone"
                  dataKey="members"
                  name="Members"
                  stroke={SERIES[0]}
                  strokeWidth={2}
                  dot={false}
                  isAnimationActive={false}
                />
                <Line type="monotone" dataKey="entered" name="Entered" stroke={SERIES[2]} dot={false} isAnimationActive={false} />
                <Line type="monotone" dataKey="left" name="Left" stroke={SERIES[1]} dot={false} isAnimationActive={false} />
              </LineChart>
            </ResponsiveContainer>
          </Chart>
          <DataTable
            caption={`Members per day, ${from} to ${to}`}
            filename={`segment-${id}-counts.csv`}
            columns={['Day', 'Entered', 'Left', 'Members']}
            rows={[...data].reverse().map((d) => [d.day, d.entered, d.left, d.members])}
          />
        </>
      ) : null}
    </section>
  );
}

const ROW = 36;

function MembersSection({ id }: { id: string }) {
  const api = useApi();
  const members = useInfiniteQuery({
    queryKey: ['segment-members', id],
    queryFn: ({ pageParam }) => api.get<MembersPage>(`/v1/segments/${encodeURIComponent(id)}/members`, { limit: 200, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next,
    refetchInterval: 5000,
  });
  const rows = members.data?.pages.flatMap((p) => p.members) ?? [];
  const total = members.data?.pages[0]?.total ?? 0;
  const parent = useRef<HTMLDivElement>(null);
  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualiser is read during render only
  const virtual = useVirtualizer({ count: rows.length, getScrollElement: () => parent.current, estimateSize: () => ROW, overscan: 10 });
  const items = virtual.getVirtualItems();
  const lastIndex = items.length ? items[items.length - 1].index : -1;
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = members;
  useEffect(() => {
    if (hasNextPage && !isFetchingNextPage && lastIndex >= rows.length - 20) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage, lastIndex, rows.length]);
  return (
    <section aria-labelledby="members-h">
      <h2 id="members-h">Members</h2>
      <ErrorMessage error={members.error} title="Could not load the members" />
      {members.isPending ? <Loading label="Loading the members…" /> : null}
      {members.data ? (
        <>
          <p role="status" className="muted">
            {total} member{total === 1 ? '' : 's'}
            {rows.length < total ? ` (${rows.length} loaded; scroll for more)` : ''}
          </p>
          {rows.length === 0 ? (
            <p className="muted">No customer is in this segment now.</p>
          ) : (
            <div ref={parent} className="virtual seg-members" tabIndex={0} aria-label={`Members of ${id}, by customer id`}>
              <ul role="list" style={{ height: virtual.getTotalSize() }}>
                {items.map((item) => {
                  const m = rows[item.index];
                  return (
                    <li
                      key={m.customerId}
                      aria-setsize={total}
                      aria-posinset={item.index + 1}
                      style={{ transform: `translateY(${item.start}px)`, height: ROW }}
                    >
                      <Link to={`/customers/${encodeURIComponent(m.customerId)}`}>{m.customerId}</Link>
                      <span className="muted">
                        since {formatTime(m.enteredAt)} (v{m.version})
                      </span>
                    </li>
                  );
                })}
              </ul>
            </div>
          )}
        </>
      ) : null}
    </section>
  );
}
