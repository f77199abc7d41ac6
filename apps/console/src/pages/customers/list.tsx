import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { ErrorMessage, Loading, PageHeading } from '../../components/ui';
import { formatTime } from '../../lib/format';
import { useApi } from '../../lib/session';
import {
  EMPTY_FILTERS,
  filtersFromParams,
  filtersToParams,
  searchQuery,
  shouldLoadMore,
  sortOptions,
  STAGES,
  totalLabel,
  TRAIT_OP_LABELS,
  TRAIT_OPS,
  type SearchFilters,
  type TraitOp,
} from './logic';

export const PAGE_SIZE = 100;
/** The count asked with the first page: at most this many (a bounded count stays cheap over a large workspace). */
const COUNT_BOUND = 100_000;
const ROW_HEIGHT = 38;

export interface CustomerHit {
  customerId: string;
  stage: string | null;
  stageSince: string | null;
  traits: Record<string, unknown>;
  segments: string[];
  health: number;
  firstSeen: string | null;
  lastSeen: string | null;
}

interface SearchPage {
  items: CustomerHit[];
  nextCursor?: string;
  total?: number;
  totalCapped?: boolean;
}

function traitsText(traits: Record<string, unknown>): string {
  return Object.entries(traits)
    .filter(([, v]) => v === null || typeof v !== 'object')
    .slice(0, 4)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(', ');
}

export function CustomerList() {
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const applied = useMemo(() => filtersFromParams(params), [params]);
  const query = useMemo(() => searchQuery(applied), [applied]);

  const pages = useInfiniteQuery({
    queryKey: ['customers', 'search', query],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam, signal }) =>
      api.get<SearchPage>(
        '/v1/customers',
        { ...query, limit: PAGE_SIZE, ...(pageParam ? { cursor: pageParam } : { count: COUNT_BOUND }) },
        signal,
      ),
    getNextPageParam: (last) => last.nextCursor,
  });
  const items = useMemo(() => pages.data?.pages.flatMap((p) => p.items) ?? [], [pages.data]);
  const first = pages.data?.pages[0];

  return (
    <>
      <PageHeading>Customers</PageHeading>
      <Filters key={params.toString()} initial={applied} onApply={(f) => setParams(filtersToParams(f))} />
      <section className="panel" aria-labelledby="results-title">
        <h2 id="results-title">
          Results{' '}
          {first ? (
            <span className="muted" role="status">
              ({totalLabel(first.total, first.totalCapped, items.length)})
            </span>
          ) : null}
        </h2>
        <ErrorMessage error={pages.error} title="The search failed" />
        {pages.isPending ? <Loading label="Searching…" /> : null}
        {pages.data ? (
          <ResultsTable
            items={items}
            hasMore={pages.hasNextPage}
            loadingMore={pages.isFetchingNextPage}
            loadMore={() => void pages.fetchNextPage()}
          />
        ) : null}
        <ErrorMessage error={pages.isFetchNextPageError ? pages.error : null} title="The next page failed" />
      </section>
    </>
  );
}

function ResultsTable({
  items,
  hasMore,
  loadingMore,
  loadMore,
}: {
  items: CustomerHit[];
  hasMore: boolean;
  loadingMore: boolean;
  loadMore(): void;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  // eslint-disable-next-line react-hooks/incompatible-library -- the virtualiser is read during render only
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 15,
  });
  const shown = virtualizer.getVirtualItems();
  const lastShown = shown.at(-1)?.index;
  useEffect(() => {
    if (shouldLoadMore(lastShown, items.length, hasMore, loadingMore)) loadMore();
  }, [lastShown, items.length, hasMore, loadingMore, loadMore]);
  const padTop = shown[0]?.start ?? 0;
  const padBottom = virtualizer.getTotalSize() - (shown.at(-1)?.end ?? 0);
  return (
    <div ref={scroller} className="virtual customers-scroll" tabIndex={0} role="region" aria-label="Customer results, scrollable">
      <table className="customers-table" aria-label="Customers" aria-rowcount={items.length + 1}>
        <thead>
          <tr>
            <th scope="col">Customer</th>
            <th scope="col">Stage</th>
            <th scope="col">Health</th>
            <th scope="col">Last seen</th>
            <th scope="col">Segments</th>
            <th scope="col">Traits</th>
          </tr>
        </thead>
        <tbody>
          {items.length === 0 ? (
            <tr>
              <td colSpan={6} className="muted">
                No customer matches.
              </td>
            </tr>
          ) : null}
          {padTop > 0 ? (
            <tr aria-hidden="true" style={{ height: padTop }}>
              <td colSpan={6} />
            </tr>
          ) : null}
          {shown.map((v) => {
            const c = items[v.index];
            return (
              <tr key={c.customerId} aria-rowindex={v.index + 2} style={{ height: ROW_HEIGHT }}>
                <td>
                  <Link to={`/customers/${encodeURIComponent(c.customerId)}`}>{c.customerId}</Link>
                </td>
                <td>{c.stage ?? '—'}</td>
                <td>{c.health}</td>
                <td>{formatTime(c.lastSeen)}</td>
                <td>{c.segments.join(', ') || '—'}</td>
                <td className="clip">{traitsText(c.traits)}</td>
              </tr>
            );
          })}
          {padBottom > 0 ? (
            <tr aria-hidden="true" style={{ height: padBottom }}>
              <td colSpan={6} />
            </tr>
          ) : null}
        </tbody>
      </table>
      {loadingMore ? <Loading label="Loading more customers…" /> : null}
    </div>
  );
}

function Filters({ initial, onApply }: { initial: SearchFilters; onApply(f: SearchFilters): void }) {
  const api = useApi();
  const [f, setF] = useState<SearchFilters>(initial);
  const segments = useQuery({
    queryKey: ['segments'],
    queryFn: () => api.get<{ segments: { segmentId?: string; id?: string; name?: string }[] }>('/v1/segments'),
  });
  const set = (patch: Partial<SearchFilters>) => setF((x) => ({ ...x, ...patch }));
  const setTrait = (i: number, patch: Partial<SearchFilters['traits'][number]>) =>
    setF((x) => ({ ...x, traits: x.traits.map((t, j) => (j === i ? { ...t, ...patch } : t)) }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply(f);
  };
  return (
    <form className="panel customer-filters" onSubmit={submit} aria-labelledby="filters-title">
      <h2 id="filters-title">Search and filter</h2>
      <div className="filter-grid">
        <label className="field">
          Id starts with
          <input value={f.idPrefix} onChange={(e) => set({ idPrefix: e.target.value })} />
        </label>
        <label className="field">
          Segment
          <select value={f.segments[0] ?? ''} onChange={(e) => set({ segments: e.target.value ? [e.target.value] : [] })}>
            <option value="">Any segment</option>
            {f.segments[0] && !segments.data?.segments.some((s) => (s.segmentId ?? s.id) === f.segments[0]) ? (
              <option value={f.segments[0]}>{f.segments[0]}</option>
            ) : null}
            {(segments.data?.segments ?? []).map((s) => {
              const id = s.segmentId ?? s.id ?? '';
              return (
                <option key={id} value={id}>
                  {s.name ? `${s.name} (${id})` : id}
                </option>
              );
            })}
          </select>
        </label>
        <label className="field">
          Last seen after
          <input type="date" value={f.lastSeenAfter.slice(0, 10)} onChange={(e) => set({ lastSeenAfter: e.target.value })} />
        </label>
        <label className="field">
          Last seen before
          <input type="date" value={f.lastSeenBefore.slice(0, 10)} onChange={(e) => set({ lastSeenBefore: e.target.value })} />
        </label>
        <label className="field">
          Health at least
          <input type="number" min={0} max={100} value={f.healthMin} onChange={(e) => set({ healthMin: e.target.value })} />
        </label>
        <label className="field">
          Health at most
          <input type="number" min={0} max={100} value={f.healthMax} onChange={(e) => set({ healthMax: e.target.value })} />
        </label>
        <label className="field">
          Sort by
          <select value={f.sort} onChange={(e) => set({ sort: e.target.value })}>
            {sortOptions(f).map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          Order
          <select value={f.order} onChange={(e) => set({ order: e.target.value === 'desc' ? 'desc' : 'asc' })}>
            <option value="asc">Ascending</option>
            <option value="desc">Descending</option>
          </select>
        </label>
      </div>
      <ErrorMessage error={segments.error} title="Segments could not be listed" />
      <fieldset className="stages">
        <legend>Stage</legend>
        {STAGES.map((s) => (
          <label key={s} className="check">
            <input
              type="checkbox"
              checked={f.stages.includes(s)}
              onChange={(e) => set({ stages: e.target.checked ? [...f.stages, s] : f.stages.filter((x) => x !== s) })}
            />
            {s === 'none' ? 'not identified' : s}
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Traits</legend>
        {f.traits.map((t, i) => (
          <div className="row trait-row" key={i}>
            <label className="field">
              Trait {i + 1} name
              <input value={t.name} onChange={(e) => setTrait(i, { name: e.target.value })} />
            </label>
            <label className="field">
              Trait {i + 1} comparison
              <select value={t.op} onChange={(e) => setTrait(i, { op: e.target.value as TraitOp })}>
                {TRAIT_OPS.map((op) => (
                  <option key={op} value={op}>
                    {TRAIT_OP_LABELS[op]}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              Trait {i + 1} value
              <input value={t.value} onChange={(e) => setTrait(i, { value: e.target.value })} />
            </label>
            <button type="button" onClick={() => set({ traits: f.traits.filter((_, j) => j !== i) })}>
              Remove trait {i + 1}
            </button>
          </div>
        ))}
        <button type="button" onClick={() => set({ traits: [...f.traits, { name: '', op: 'eq', value: '' }] })}>
          Add a trait filter
        </button>
      </fieldset>
      <div className="row">
        <button type="submit" className="primary">
          Search
        </button>
        <button type="button" onClick={() => onApply(EMPTY_FILTERS)}>
          Clear filters
        </button>
      </div>
    </form>
  );
}
