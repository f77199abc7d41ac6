import { useQuery } from '@tanstack/react-query';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { DataTable, ErrorMessage, Loading } from '../../components/ui';
import { useApi } from '../../lib/session';
import { Chart, SERIES } from '../../components/chart';
import { funnelSummary, stageFunnel, transitionSeries, transitionsSummary, type StageAnalytics } from './shape';

/** Customers per stage now (bars, in the journey's order) and stage transitions per day (a line per kind). */
export function StagesSection() {
  const api = useApi();
  const stages = useQuery({
    queryKey: ['analytics', 'stages'],
    queryFn: () => api.get<StageAnalytics>('/v1/analytics/stages'),
    refetchInterval: 5000,
  });
  const funnel = stages.data ? stageFunnel(stages.data.customersPerStage) : [];
  const series = stages.data ? transitionSeries(stages.data.transitions) : { keys: [], rows: [], totals: {} };
  return (
    <>
      <h2>Stages</h2>
      <ErrorMessage error={stages.error} title="Could not load the stage analytics" />
      {stages.isPending ? <Loading label="Loading the stage analytics…" /> : null}
      {stages.data ? (
        <div className="an-charts">
          <section aria-labelledby="funnel-h">
            <h3 id="funnel-h">Customers per stage now</h3>
            <Chart label={funnelSummary(funnel)}>
              <ResponsiveContainer width="100%" height="100%">
                <BarChart data={funnel} layout="vertical" accessibilityLayer={false} margin={{ top: 8, right: 24, bottom: 8, left: 24 }}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis type="number" allowDecimals={false} tick={{ fontSize: 12 }} />
                  <YAxis type="category" dataKey="label" width={100} tick={{ fontSize: 12 }} />
                  <Tooltip />
                  <Bar dataKey="customers" name="Customers" fill={SERIES[0]} isAnimationActive={false} />
                </BarChart>
              </ResponsiveContainer>
            </Chart>
            <DataTable
              caption="Customers per stage"
              filename="customers-per-stage.csv"
              columns={['Stage', 'Customers']}
              rows={funnel.map((r) => [r.label, r.customers])}
            />
          </section>
          <section aria-labelledby="transitions-h">
            <h3 id="transitions-h">Stage transitions per day</h3>
            <Chart label={transitionsSummary(series)}>
              <ResponsiveContainer width="100%" height="100%">
                <LineChart data={series.rows} accessibilityLayer={false} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="day" tick={{ fontSize: 12 }} minTickGap={24} />
                  <YAxis allowDecimals={false} tick={{ fontSize: 12 }} />
                  <Tooltip />
                  <Legend />
                  {series.keys.map((k, i) => (
                    <Line
                      key={k}
                      type="monotone"
                      dataKey={k}
                      stroke={SERIES[i % SERIES.length]}
                      strokeWidth={2}
                      dot={series.rows.length < 3}
                      isAnimationActive={false}
                    />
                  ))}
                </LineChart>
              </ResponsiveContainer>
            </Chart>
            <DataTable
              caption="Stage transitions per day"
              filename="stage-transitions.csv"
              columns={['Day', 'From', 'To', 'Customers']}
              rows={stages.data.transitions.map((t) => [t.day, t.from ?? 'first seen', t.to, t.count])}
            />
          </section>
        </div>
      ) : null}
    </>
  );
}
