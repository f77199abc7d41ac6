import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { DataTable, ErrorMessage, Loading } from '../../components/ui';
import { percent } from '../../lib/format';
import { useApi } from '../../lib/session';
import { Chart, SERIES } from '../../components/chart';
import { whiskerBar } from './whisker-bar';
import {
  intervalText,
  liftAxisMax,
  liftChartData,
  liftRows,
  liftSummary,
  signedPercent,
  suppressionReasons,
  suppressionSummary,
  triggerRows,
  triggerSummary,
} from './shape';
import type { TriggerVersionStats } from '../../lib/trigger-stats';

const reasonsText = (r: Record<string, number>) =>
  Object.entries(r)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || 'none';

/**
 * Trigger performance (GET /v1/analytics/triggers): messages per version, suppressions by reason, conversion of the
 * treated vs the holdout with lift and its 95% interval, per variant; as of a day.
 */
export function TriggersSection() {
  const api = useApi();
  const [asOf, setAsOf] = useState('');
  const [triggerId, setTriggerId] = useState('');
  const all = useQuery({
    queryKey: ['analytics', 'triggers', asOf],
    queryFn: () => api.get<{ triggers: TriggerVersionStats[] }>('/v1/analytics/triggers', { asOf }),
    refetchInterval: 5000,
  });
  const triggers = (all.data?.triggers ?? []).filter((t) => !triggerId || t.triggerId === triggerId);
  const ids = [...new Set((all.data?.triggers ?? []).map((t) => t.triggerId))].sort();
  const rows = triggerRows(triggers);
  const reasons = suppressionReasons(rows);
  const lift = liftRows(triggers);
  const liftData = liftChartData(lift);
  const liftMax = liftAxisMax(liftData);
  const suppressedData = rows.map((r) => ({ key: r.key, ...r.suppressedByReason }));
  const steps = triggers
    .slice()
    .sort((a, b) => a.triggerId.localeCompare(b.triggerId) || a.version - b.version)
    .flatMap((t) => t.steps.map((s) => ({ t, s })));
  return (
    <>
      <h2>Trigger performance</h2>
      <div className="an-controls">
        <div className="field">
          <label htmlFor="an-trigger">Trigger</label>
          <select id="an-trigger" value={triggerId} onChange={(e) => setTriggerId(e.target.value)}>
            <option value="">Every trigger</option>
            {ids.map((id) => (
              <option key={id}>{id}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="an-asof">Lift as of (UTC day)</label>
          <input id="an-asof" type="date" value={asOf} onChange={(e) => setAsOf(e.target.value)} aria-describedby="an-asof-help" />
        </div>
        {asOf ? (
          <button type="button" onClick={() => setAsOf('')}>
            Up to now
          </button>
        ) : null}
        <p id="an-asof-help" className="muted an-note">
          Runs assigned and conversions up to the end of that day; empty: everything so far.
        </p>
      </div>
      <ErrorMessage error={all.error} title="Could not load the trigger analytics" />
      {all.isPending ? <Loading label="Loading the trigger analytics…" /> : null}
      {all.data ? (
        <>
          <div className="an-charts">
            <section aria-labelledby="tm-h">
              <h3 id="tm-h">Messages per trigger version</h3>
              <Chart label={triggerSummary(rows)}>
                <ResponsiveContainer width="100%" height="100%">
                  <BarChart data={rows} accessibilityLayer={false} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
                    <CartesianGrid strokeDasharray="3 3" />
                    <XAxis dataKey="key" tick={{ fontSize: 12 }} />
                    <YAxis allowDecimals={false} tick={{ fontSize: 12 }} />
                    <Tooltip />
                    <Legend />
                    <Bar dataKey="sent" name="Sent" fill={SERIES[0]} isAnimationActive={false} />
                    <Bar dataKey="delivered" name="Delivered" fill={SERIES[2]} isAnimationActive={false} />
                    <Bar dataKey="opened" name="Opened" fill={SERIES[4]} isAnimationActive={false} />
                    <Bar dataKey="clicked" name="Clicked" fill={SERIES[3]} isAnimationActive={false} />
                  </BarChart>
                </ResponsiveContainer>
              </Chart>
            </section>
            <section aria-labelledby="ts-h">
              <h3 id="ts-h">Suppressed by reason</h3>
              {reasons.length === 0 ? (
                <p className="muted">No message of these triggers was suppressed.</p>
              ) : (
                <Chart label={suppressionSummary(rows, reasons)}>
                  <ResponsiveContainer width="100%" height="100%">
                    <BarChart data={suppressedData} accessibilityLayer={false} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
                      <CartesianGrid strokeDasharray="3 3" />
                      <XAxis dataKey="key" tick={{ fontSize: 12 }} />
                      <YAxis allowDecimals={false} tick={{ fontSize: 12 }} />
                      <Tooltip />
                      <Legend />
                      {reasons.map((r, i) => (
                        <Bar key={r} dataKey={r} stackId="s" fill={SERIES[(i + 1) % SERIES.length]} isAnimationActive={false} />
                      ))}
                    </BarChart>
                  </ResponsiveContainer>
                </Chart>
              )}
            </section>
          </div>
          <DataTable
            caption="Trigger performance per version"
            filename={`trigger-performance${asOf ? `-as-of-${asOf}` : ''}.csv`}
            columns={[
              'Trigger',
              'Version',
              'Runs',
              'Scheduled',
              'Sent',
              'Delivered',
              'Opened',
              'Clicked',
              'Failed',
              'Suppressed',
              'Suppressed by reason',
              'Converted',
              'Conversion (treated)',
              'Holdout runs',
              'Holdout converted',
              'Conversion (holdout)',
            ]}
            rows={rows.map((r) => [
              <Link key="t" to={`/triggers/${encodeURIComponent(r.triggerId)}`}>
                {r.triggerId}
              </Link>,
              r.version,
              r.runs,
              r.scheduled,
              r.sent,
              r.delivered,
              r.opened,
              r.clicked,
              r.failed,
              r.suppressed,
              reasonsText(r.suppressedByReason),
              r.converted,
              percent(r.conversionRate),
              r.holdoutRuns,
              r.holdoutConverted,
              percent(r.holdoutRate),
            ])}
            csvRows={rows.map((r) => [
              r.triggerId,
              r.version,
              r.runs,
              r.scheduled,
              r.sent,
              r.delivered,
              r.opened,
              r.clicked,
              r.failed,
              r.suppressed,
              reasonsText(r.suppressedByReason),
              r.converted,
              r.conversionRate ?? '',
              r.holdoutRuns,
              r.holdoutConverted,
              r.holdoutRate ?? '',
            ])}
          />
          <section aria-labelledby="tl-h">
            <h3 id="tl-h">Conversion: treated vs holdout{asOf ? `, as of ${asOf}` : ''}</h3>
            <p className="muted an-note">
              A goal event within the window after the run matched, for treated and held-out runs alike; lift = treated ÷ holdout − 1 with
              Katz&apos;s 95% interval, each rate with its Wilson interval (the whiskers).
            </p>
            <Chart label={liftSummary(lift)} height={280}>
              <ResponsiveContainer width="100%" height="100%">
                <BarChart data={liftData} accessibilityLayer={false} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="key" tick={{ fontSize: 12 }} />
                  <YAxis unit="%" domain={[0, liftMax]} allowDataOverflow tick={{ fontSize: 12 }} />
                  <Tooltip />
                  <Legend />
                  <Bar
                    dataKey="treated"
                    name="Treated conversion %"
                    fill={SERIES[0]}
                    isAnimationActive={false}
                    shape={whiskerBar('treatedCi', liftMax)}
                  />
                  <Bar
                    dataKey="holdout"
                    name="Holdout conversion %"
                    fill={SERIES[7]}
                    isAnimationActive={false}
                    shape={whiskerBar('holdoutCi', liftMax)}
                  />
                </BarChart>
              </ResponsiveContainer>
            </Chart>
            <DataTable
              caption={`Lift per variant${asOf ? ` as of ${asOf}` : ''}`}
              filename={`trigger-lift${asOf ? `-as-of-${asOf}` : ''}.csv`}
              columns={[
                'Trigger',
                'Version',
                'Mode',
                'Variant',
                'Runs',
                'Converted',
                'Conversion',
                'Conversion 95% CI',
                'Holdout runs',
                'Holdout converted',
                'Holdout conversion',
                'Lift',
                'Lift 95% CI',
                'Difference',
                'Difference 95% CI',
              ]}
              rows={lift.map((r) => [
                r.triggerId,
                r.version,
                r.mode,
                r.variant,
                r.runs,
                r.converted,
                percent(r.rate),
                intervalText(r.ci),
                r.holdoutRuns,
                r.holdoutConverted,
                percent(r.holdoutRate),
                signedPercent(r.lift),
                intervalText(r.liftCi, true),
                signedPercent(r.difference),
                intervalText(r.differenceCi, true),
              ])}
              csvRows={lift.map((r) => [
                r.triggerId,
                r.version,
                r.mode,
                r.variant,
                r.runs,
                r.converted,
                r.rate ?? '',
                r.ci ? `${r.ci.lower}..${r.ci.upper}` : '',
                r.holdoutRuns,
                r.holdoutConverted,
                r.holdoutRate ?? '',
                r.lift ?? '',
                r.liftCi ? `${r.liftCi.lower}..${r.liftCi.upper}` : '',
                r.difference ?? '',
                r.differenceCi ? `${r.differenceCi.lower}..${r.differenceCi.upper}` : '',
              ])}
            />
          </section>
          <DataTable
            caption="Per step"
            filename="trigger-steps.csv"
            columns={[
              'Trigger',
              'Version',
              'Step',
              'Kind',
              'Entered',
              'Sent',
              'Delivered',
              'Opened',
              'Clicked',
              'Suppressed',
              'Converted here',
            ]}
            rows={steps.map(({ t, s }) => [
              t.triggerId,
              t.version,
              s.step,
              s.kind,
              s.entered,
              s.sent,
              s.delivered,
              s.opened,
              s.clicked,
              reasonsText(s.suppressed),
              s.converted,
            ])}
          />
        </>
      ) : null}
    </>
  );
}
