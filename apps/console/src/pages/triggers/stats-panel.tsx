import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { Chart } from '../../components/chart';
import { DataTable, ErrorMessage, Loading } from '../../components/ui';
import { formatTime } from '../../lib/format';
import { useApi } from '../../lib/session';
import { LiveStatus, useLive } from '../../lib/use-live';
import type { TriggerVersionStats } from '../../lib/trigger-stats';
import { countsText, liftRows, totals, versionRows } from './actions-logic';
import { Figures } from './actions-ui';
import './actions-panels.css';

/** The refetches after a live event: soon, and once more when the projections have caught up with what followed it. */
const REFETCH_AFTER_MS = [300, 1500];

/** Trigger performance, live: refetched as the trigger's run and message events arrive. */
export function StatsPanel({ triggerId }: { triggerId: string; draft?: string; version?: number }) {
  const api = useApi();
  const id = useId();
  const queryClient = useQueryClient();
  const [asOf, setAsOf] = useState('');
  const queryKey = ['trigger-analytics', triggerId, asOf];
  const stats = useQuery({
    queryKey,
    queryFn: () => api.get<{ triggers: TriggerVersionStats[] }>('/v1/analytics/triggers', { triggerId, asOf: asOf || undefined }),
  });
  const updatedAt = stats.dataUpdatedAt ? new Date(stats.dataUpdatedAt).toISOString() : undefined;

  const timers = useRef<ReturnType<typeof setTimeout>[]>([]);
  useEffect(() => () => timers.current.forEach(clearTimeout), []);
  const live = useLive('/v1/events/stream', { triggerId }, (event) => {
    if (event.event !== 'event') return;
    timers.current.forEach(clearTimeout);
    timers.current = REFETCH_AFTER_MS.map((ms) =>
      setTimeout(() => void queryClient.invalidateQueries({ queryKey: ['trigger-analytics', triggerId] }), ms),
    );
  });

  const versions = (stats.data?.triggers ?? []).filter((v) => v.triggerId === triggerId);
  const t = totals(versions);
  const suppressedTotal = Object.values(t.suppressed).reduce((n, v) => n + v, 0);
  const steps = [...versions]
    .sort((a, b) => b.version - a.version)
    .flatMap((v) => v.steps.map((s) => ({ ...s, version: v.version, name: `v${v.version} ${s.step} ${s.kind}` })));
  const lift = liftRows(versions);
  const chartLabel = `Messages per step: ${steps
    .map((s) => `${s.name}: sent ${s.sent}, delivered ${s.delivered}, opened ${s.opened}, clicked ${s.clicked}`)
    .join('; ')}`;

  return (
    <section aria-labelledby={`${id}-h`} className="actions-panel">
      <h2 id={`${id}-h`}>Statistics</h2>
      <div className="row">
        <LiveStatus status={live} />
        {updatedAt ? <span className="muted">Figures as of {formatTime(updatedAt)}</span> : null}
        <div className="field">
          <label htmlFor={`${id}-asof`}>Conversion as of (UTC day; empty: everything so far)</label>
          <input id={`${id}-asof`} type="date" value={asOf} onChange={(e) => setAsOf(e.target.value)} />
        </div>
      </div>
      <ErrorMessage error={stats.error} title="Could not load the trigger's statistics" />
      {stats.isLoading ? <Loading label="Loading the statistics…" /> : null}
      {stats.data ? (
        <>
          <Figures
            label="Trigger totals"
            items={[
              [
                'sent',
                <span key="sent" data-testid="stats-sent">
                  {t.sent}
                </span>,
              ],
              ['delivered', t.delivered],
              ['opened', t.opened],
              ['clicked', t.clicked],
              ['failed', t.failed],
              ['suppressed', suppressedTotal],
            ]}
          />
          {versions.length === 0 ? <p className="muted">No run of this trigger yet.</p> : null}
          <DataTable
            caption="Suppressed by reason"
            filename={`stats-${triggerId}-suppressed.csv`}
            columns={['Reason', 'Messages']}
            rows={Object.entries(t.suppressed).map(([r, n]) => [r, n])}
          />
          <h3>Per step</h3>
          {steps.length ? (
            <Chart label={chartLabel}>
              <ResponsiveContainer width="100%" height="100%">
                <BarChart data={steps} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
                  <CartesianGrid strokeDasharray="3 3" stroke="#d0d7de" />
                  <XAxis dataKey="name" tick={{ fill: '#1b1f24', fontSize: 12 }} interval={0} />
                  <YAxis allowDecimals={false} tick={{ fill: '#1b1f24', fontSize: 12 }} />
                  <Tooltip />
                  <Legend />
                  <Bar dataKey="sent" name="Sent" fill="#0b5cad" isAnimationActive={false} />
                  <Bar dataKey="delivered" name="Delivered" fill="#1a6b35" isAnimationActive={false} />
                  <Bar dataKey="opened" name="Opened" fill="#8a5300" isAnimationActive={false} />
                  <Bar dataKey="clicked" name="Clicked" fill="#545d68" isAnimationActive={false} />
                </BarChart>
              </ResponsiveContainer>
            </Chart>
          ) : null}
          <DataTable
            caption="Per version and step"
            filename={`stats-${triggerId}-steps.csv`}
            columns={[
              'Version',
              'Step',
              'Kind',
              'Entered',
              'Scheduled',
              'Sent',
              'Delivered',
              'Opened',
              'Clicked',
              'Failed',
              'Suppressed',
              'Converted',
            ]}
            rows={steps.map((s) => [
              s.version,
              s.step,
              s.kind,
              s.entered,
              s.scheduled,
              s.sent,
              s.delivered,
              s.opened,
              s.clicked,
              s.failed,
              countsText(s.suppressed),
              s.converted,
            ])}
          />
          <DataTable
            caption="Live vs shadow per version"
            filename={`stats-${triggerId}-versions.csv`}
            columns={['Version', 'Mode', 'Runs', 'Messages', 'Suppressed', 'Converted', 'Conversion']}
            rows={versionRows(versions).map((r) => [r.version, r.mode, r.runs, r.messages, r.suppressed, r.converted, r.conversionRate])}
          />
          <DataTable
            caption="Conversion: treated vs holdout, with lift and its 95% interval"
            filename={`stats-${triggerId}-lift.csv`}
            columns={['Version', 'Mode', 'Group', 'Runs', 'Converted', 'Conversion', 'Lift vs holdout']}
            rows={lift.map((r) => [r.version, r.mode, r.group, r.runs, r.converted, r.conversionRate, r.lift])}
          />
          {lift.length === 0 ? (
            <p className="muted">No run was assigned at a split (A/B or holdout): no lift to show.</p>
          ) : (
            <p className="muted">
              Conversion: a goal event ({[...new Set(versions.flatMap((v) => v.lift?.goals ?? []))].join(', ') || 'none'}) within{' '}
              {versions.find((v) => v.lift)?.lift?.windowDays ?? 30} days after the run matched, the same rule for treated and held-out
              runs.
            </p>
          )}
        </>
      ) : null}
    </section>
  );
}
