import { useMutation } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { Chart } from '../../components/chart';
import { DataTable, ErrorMessage } from '../../components/ui';
import { formatTime } from '../../lib/format';
import { useApi } from '../../lib/session';
import { dryRunImpact } from './actions-api';
import {
  defaultPeriod,
  impactSentence,
  impactStepRows,
  perDayRows,
  periodRange,
  type Difference,
  type PolicyVerdict,
  type TriggerImpact,
} from './actions-logic';
import { CustomerLinks, Figures, PeriodForm } from './actions-ui';
import './actions-panels.css';

const signed = (n: number) => (n > 0 ? `+${n}` : String(n));
const diff = (d: Difference) => `${d.current} → ${d.candidate} (${signed(d.difference)})`;

/**
 * The dry-run of a change against what is live, over a period. With a draft that changes the stored definition: saving
 * it (PUT ?dryRun) beside the live version. Without one (or when the engine finds the draft is the stored version) on a
 * disabled trigger: enabling its latest version, what the enable confirmation states.
 */
export function ImpactPanel({
  triggerId,
  draft,
  version,
  enabled = false,
}: {
  triggerId: string;
  draft?: string;
  version?: number;
  enabled?: boolean;
}) {
  const api = useApi();
  const id = useId();
  const [period, setPeriod] = useState(() => defaultPeriod(Date.now(), 7));
  const hasDraft = draft !== undefined && draft.trim() !== '';
  const run = useMutation({
    mutationFn: async () => {
      const range = periodRange(period.from, period.to, Date.now());
      if (!range.ok) throw new Error(range.error);
      const options = { from: range.from, to: range.to };
      const answer = await dryRunImpact(api, triggerId, { ...options, draft });
      // the draft is the stored version (as the engine reads it): saving changes nothing, enabling would
      if (answer.change === 'update' && answer.takesEffect === 'nothing changes' && !enabled) return dryRunImpact(api, triggerId, options);
      return answer;
    },
  });
  const saved = version === undefined ? 'the saved version' : `version ${version}`;
  const what = hasDraft ? 'saving the draft' : enabled ? `${saved} (live)` : `enabling ${saved}`;
  return (
    <section aria-labelledby={`${id}-h`} className="actions-panel">
      <h2 id={`${id}-h`}>Impact of {what}</h2>
      <p className="muted">
        {hasDraft
          ? `A dry-run of the draft, as the next version, beside ${enabled ? 'the live version' : `${saved}, the one enabling would make live`}`
          : enabled
            ? `The draft does not change ${saved}, which is live: edit the definition to dry-run a change. A dry-run of ${saved}`
            : `A dry-run of enabling ${saved}, which is not live`}
        , replayed over the period. Nothing is sent or changed.
      </p>
      <PeriodForm
        from={period.from}
        to={period.to}
        onFrom={(from) => setPeriod((p) => ({ ...p, from }))}
        onTo={(to) => setPeriod((p) => ({ ...p, to }))}
        onSubmit={() => run.mutate()}
        busy={run.isPending}
        submitLabel="Run dry-run"
      />
      <ErrorMessage error={run.error} title="Dry-run failed" />
      {run.data ? <ImpactView answer={run.data} /> : null}
    </section>
  );
}

export function PolicyBadge({ policy }: { policy?: PolicyVerdict }) {
  if (!policy) return <span className="badge">no policy limit</span>;
  return (
    <span className={`badge ${policy.exceeded ? 'danger' : 'ok'}`}>
      {policy.exceeded ? 'over the policy limit' : 'within the policy limit'}: busiest day {policy.estimate.peak} of {policy.limit} a day
    </span>
  );
}

function ImpactView({ answer }: { answer: TriggerImpact }) {
  const { impact } = answer;
  const steps = impactStepRows(impact);
  const days = perDayRows(impact);
  const current = impact.current ? `live version ${impact.current.version}` : 'nothing live';
  const chartLabel = `Messages per day, ${current} vs version ${impact.candidate.version}: ${days
    .map((d) => `${d.day} ${d.current} vs ${d.candidate}`)
    .join(', ')}`;
  return (
    <div role="region" aria-label="Dry-run impact">
      <p className="notice" data-testid="impact-sentence">
        {impactSentence(answer, answer.change === 'update' ? 'save' : 'enable')}
      </p>
      <p>
        Version {impact.candidate.version} against {current}, {formatTime(impact.from)} to {formatTime(impact.to)}. Takes effect:{' '}
        <strong>{answer.takesEffect}</strong>. Policy: <PolicyBadge policy={answer.policy} />
      </p>
      <Figures
        label="Impact totals"
        items={[
          ['runs started', diff(impact.entered)],
          ['customers messaged', diff(impact.messaged)],
          ['tasks', diff(impact.tasks)],
          ['messages a day (average)', `${impact.messagesPerDay.candidate.average}`],
          [
            'busiest day',
            `${impact.messagesPerDay.candidate.peak}${impact.messagesPerDay.candidate.peakDay ? ` (${impact.messagesPerDay.candidate.peakDay})` : ''}`,
          ],
        ]}
      />
      <div className="grid2">
        <div>
          <h3>Who starts getting messages ({impact.messaged.starts.customers})</h3>
          <CustomerLinks ids={impact.messaged.starts.sampleCustomerIds} label="Customers who start getting messages" />
        </div>
        <div>
          <h3>Who stops getting messages ({impact.messaged.stops.customers})</h3>
          <CustomerLinks ids={impact.messaged.stops.sampleCustomerIds} label="Customers who stop getting messages" />
        </div>
      </div>
      <DataTable
        caption="Per step and channel: messages with the live version and with this one"
        filename={`impact-${impact.triggerId}-steps.csv`}
        columns={['Step', 'Channel', 'Live', 'This version', 'Difference', 'Start getting it', 'Stop getting it']}
        rows={steps.map((r) => [
          r.step,
          r.channel,
          r.current,
          r.candidate,
          signed(r.difference),
          <span key="starts">
            {r.starts.customers} <CustomerLinks ids={r.starts.sampleCustomerIds} label={`Customers who start getting ${r.step}`} />
          </span>,
          <span key="stops">
            {r.stops.customers} <CustomerLinks ids={r.stops.sampleCustomerIds} label={`Customers who stop getting ${r.step}`} />
          </span>,
        ])}
        csvRows={steps.map((r) => [r.step, r.channel, r.current, r.candidate, r.difference, r.starts.customers, r.stops.customers])}
      />
      <DataTable
        caption="Messages by channel"
        columns={['Channel', 'Live', 'This version', 'Difference']}
        rows={Object.entries(impact.messages).map(([c, d]) => [c, d.current, d.candidate, signed(d.difference)])}
      />
      <DataTable
        caption="Suppressions by reason"
        columns={['Reason', 'Live', 'This version', 'Difference']}
        rows={Object.entries(impact.suppressed).map(([c, d]) => [c, d.current, d.candidate, signed(d.difference)])}
      />
      <h3>Messages per day</h3>
      <Chart label={chartLabel}>
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={days} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#d0d7de" />
            <XAxis dataKey="day" tick={{ fill: '#1b1f24', fontSize: 12 }} />
            <YAxis allowDecimals={false} tick={{ fill: '#1b1f24', fontSize: 12 }} />
            <Tooltip />
            <Legend />
            <Bar dataKey="current" name="Live version" fill="#545d68" isAnimationActive={false} />
            <Bar dataKey="candidate" name="This version" fill="#0b5cad" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </Chart>
      <DataTable
        caption="Messages per day"
        filename={`impact-${impact.triggerId}-per-day.csv`}
        columns={['Day (UTC)', 'Live version', 'This version']}
        rows={days.map((d) => [d.day, d.current, d.candidate])}
      />
    </div>
  );
}
