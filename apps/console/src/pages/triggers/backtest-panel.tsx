import { useMutation } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { Chart } from '../../components/chart';
import { DataTable, ErrorMessage } from '../../components/ui';
import { formatTime } from '../../lib/format';
import { useApi } from '../../lib/session';
import {
  countsText,
  defaultPeriod,
  draftDefinition,
  periodRange,
  reachRows,
  sampleCustomers,
  suppressionRows,
  type BacktestReport,
} from './actions-logic';
import { CustomerLinks, Figures, PeriodForm } from './actions-ui';
import './actions-panels.css';

/**
 * Replays history over a period through the trigger: the draft when given (one that changes the stored definition,
 * reported as the next version), else its saved latest version.
 */
export function BacktestPanel({ triggerId, draft, version }: { triggerId: string; draft?: string; version?: number }) {
  const api = useApi();
  const id = useId();
  const [period, setPeriod] = useState(() => defaultPeriod(Date.now()));
  const run = useMutation({
    mutationFn: async () => {
      const range = periodRange(period.from, period.to, Date.now());
      if (!range.ok) throw new Error(range.error);
      const { definition, error } = draftDefinition(draft);
      if (error) throw error;
      return api.post<BacktestReport>(`/v1/triggers/${encodeURIComponent(triggerId)}/backtest`, {
        from: range.from,
        ...(range.to ? { to: range.to } : {}),
        ...(definition !== undefined ? { definition } : {}),
      });
    },
  });
  const report = run.data;
  return (
    <section aria-labelledby={`${id}-h`} className="actions-panel">
      <h2 id={`${id}-h`}>Backtest {draft ? 'the draft' : version === undefined ? 'the saved version' : `version ${version}`}</h2>
      <p className="muted">Replays the period&rsquo;s events through the trigger: nothing is sent, nothing is stored.</p>
      <PeriodForm
        from={period.from}
        to={period.to}
        onFrom={(from) => setPeriod((p) => ({ ...p, from }))}
        onTo={(to) => setPeriod((p) => ({ ...p, to }))}
        onSubmit={() => run.mutate()}
        busy={run.isPending}
        submitLabel="Run backtest"
      />
      <ErrorMessage error={run.error} title="Backtest failed" />
      {report ? <BacktestReportView report={report} draft={draft !== undefined && draft.trim() !== ''} /> : null}
    </section>
  );
}

function BacktestReportView({ report, draft }: { report: BacktestReport; draft: boolean }) {
  const what = draft
    ? `the draft of ${report.triggerId} (version ${report.version} once saved)`
    : `${report.triggerId} version ${report.version}`;
  const rows = reachRows(report);
  const suppressions = suppressionRows(report);
  const samples = sampleCustomers(report);
  const chartLabel = `Reach per step of ${what}: ${rows.map((r) => `${r.label} ${r.customers} customers`).join(', ')}`;
  return (
    <div role="region" aria-label="Backtest result">
      <p>
        {draft ? `The draft (version ${report.version} once saved)` : `Version ${report.version}`},{' '}
        {report.from ? formatTime(report.from) : 'the beginning'} to {formatTime(report.to)}: {report.eventsReplayed} events replayed (
        {report.contextEvents} earlier ones read as context) over {report.customers} customers.
      </p>
      <Figures
        label="Backtest totals"
        items={[
          ['customers entered', report.entered.customers],
          ['runs', report.entered.runs],
          ['messages', Object.values(report.messages.sent).reduce((n, v) => n + v, 0)],
          ['suppressed', suppressions.reduce((n, s) => n + s.count, 0)],
          ['deferred by quiet hours', report.messages.deferredByQuietHours],
          ['still waiting at the end', report.activeAtEnd],
        ]}
      />
      <h3>Reach per step</h3>
      <Chart label={chartLabel}>
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={rows} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="#d0d7de" />
            <XAxis dataKey="label" tick={{ fill: '#1b1f24', fontSize: 12 }} interval={0} />
            <YAxis allowDecimals={false} tick={{ fill: '#1b1f24', fontSize: 12 }} />
            <Tooltip />
            <Legend />
            <Bar dataKey="customers" name="Customers" fill="#0b5cad" isAnimationActive={false} />
            <Bar dataKey="runs" name="Runs" fill="#1a6b35" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </Chart>
      <DataTable
        caption="Reach per step"
        filename={`backtest-${report.triggerId}-v${report.version}.csv`}
        columns={['Step', 'What', 'Runs', 'Customers', 'Sent', 'Suppressed', 'Sample customers']}
        rows={rows.map((r) => [
          r.step,
          r.label,
          r.runs,
          r.customers,
          r.sent,
          r.suppressed,
          <CustomerLinks key="s" ids={r.samples} label={`Sample customers at ${r.label}`} />,
        ])}
        csvRows={rows.map((r) => [r.step, r.label, r.runs, r.customers, r.sent, r.suppressed, r.samples.join(' ')])}
      />
      <DataTable
        caption="Suppressions by reason"
        filename={`backtest-${report.triggerId}-suppressions.csv`}
        columns={['Reason', 'Messages']}
        rows={suppressions.map((s) => [s.reason, s.count])}
      />
      <DataTable
        caption="How runs ended"
        columns={['Exit', 'Runs']}
        rows={Object.entries(report.exits).map(([reason, n]) => [reason, n])}
      />
      <p>Messages by channel: {countsText(report.messages.sent)}.</p>
      <h3>Sample customers</h3>
      <CustomerLinks ids={samples} label="Sample customers of the backtest" />
    </div>
  );
}
