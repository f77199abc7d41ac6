import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { DataTable, ErrorMessage, Loading } from '../../components/ui';
import { formatDuration, percent } from '../../lib/format';
import { useApi } from '../../lib/session';
import { Chart, SERIES } from '../../components/chart';
import {
  RATE_KEYS,
  TIME_KEYS,
  conversationGroups,
  conversationRates,
  conversationTimes,
  ratesSummary,
  timesSummary,
  type ConversationAnalytics,
} from './shape';

const GROUP_BY = ['', 'team', 'assignee', 'priority', 'channel'];
const today = () => new Date().toISOString().slice(0, 10);
const daysBefore = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) - n * 86_400_000).toISOString().slice(0, 10);
const duration = (s: number | null) => (s === null ? '—' : formatDuration(s));

/** Conversation measures (GET /v1/analytics/conversations) over a period, overall or per team, assignee, priority, channel. */
export function ConversationsSection() {
  const api = useApi();
  const [from, setFrom] = useState(() => daysBefore(today(), 29));
  const [to, setTo] = useState(today);
  const [groupBy, setGroupBy] = useState('');
  // `to` is a day, inclusive: the API's `to` is exclusive, so the next day's midnight
  const toExclusive = /^\d{4}-\d{2}-\d{2}$/.test(to) ? daysBefore(to, -1) : to;
  const figures = useQuery({
    queryKey: ['analytics', 'conversations', from, toExclusive, groupBy],
    queryFn: () =>
      api.get<ConversationAnalytics>('/v1/analytics/conversations', {
        from: from ? `${from}T00:00:00Z` : undefined,
        to: toExclusive ? `${toExclusive}T00:00:00Z` : undefined,
        groupBy,
      }),
    refetchInterval: 10_000,
  });
  const a = figures.data;
  const o = a?.overall;
  const times = a ? conversationTimes(a) : undefined;
  return (
    <>
      <h2>Conversations</h2>
      <div className="an-controls">
        <div className="field">
          <label htmlFor="cv-from">From (UTC day)</label>
          <input id="cv-from" type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="cv-to">To (UTC day, included)</label>
          <input id="cv-to" type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="cv-group">Group by</label>
          <select id="cv-group" value={groupBy} onChange={(e) => setGroupBy(e.target.value)}>
            {GROUP_BY.map((g) => (
              <option key={g} value={g}>
                {g || 'Nothing (overall)'}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ErrorMessage error={figures.error} title="Could not load the conversation figures" />
      {figures.isPending ? <Loading label="Loading the conversation figures…" /> : null}
      {a && o && times ? (
        <>
          <ul className="cards an-cards" aria-label="Conversation measures">
            <Card label="Conversations" value={String(o.conversations)} />
            <Card
              label="First response p50 / p90"
              value={`${duration(o.firstResponseSeconds.p50)} / ${duration(o.firstResponseSeconds.p90)}`}
            />
            <Card label="Resolution p50 / p90" value={`${duration(o.resolutionSeconds.p50)} / ${duration(o.resolutionSeconds.p90)}`} />
            <Card label="SLA attainment" value={percent(o.sla.attainment)} detail={`${o.sla.met} met, ${o.sla.breached} breached`} />
            <Card
              label="CSAT"
              value={o.csat.average === null ? '—' : `${o.csat.average.toFixed(2)} / 5`}
              detail={`${o.csat.rated} rated of ${o.csat.resolved} resolved (${percent(o.csat.responseRate)})`}
            />
            <Card
              label="Repeat contact (7 days)"
              value={percent(o.repeatContact.rate)}
              detail={`${o.repeatContact.repeated} of ${o.repeatContact.resolutions}`}
            />
            <Card
              label="Automation rate"
              value={percent(o.automation.rate)}
              detail={`${o.automation.automated} of ${o.automation.resolved} resolved`}
            />
          </ul>
          <div className="an-charts">
            <section aria-labelledby="cv-rates-h">
              <h3 id="cv-rates-h">Rates{groupBy ? ` by ${groupBy}` : ''}</h3>
              <Chart label={ratesSummary(a)}>
                <ResponsiveContainer width="100%" height="100%">
                  <BarChart data={conversationRates(a)} accessibilityLayer={false} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
                    <CartesianGrid strokeDasharray="3 3" />
                    <XAxis dataKey="label" tick={{ fontSize: 12 }} />
                    <YAxis unit="%" domain={[0, 100]} tick={{ fontSize: 12 }} />
                    <Tooltip />
                    <Legend />
                    {RATE_KEYS.map((k, i) => (
                      <Bar key={k} dataKey={k} fill={SERIES[i]} isAnimationActive={false} />
                    ))}
                  </BarChart>
                </ResponsiveContainer>
              </Chart>
            </section>
            <section aria-labelledby="cv-times-h">
              <h3 id="cv-times-h">Response and resolution times ({times.unit.label})</h3>
              <Chart label={timesSummary(a)}>
                <ResponsiveContainer width="100%" height="100%">
                  <BarChart data={times.rows} accessibilityLayer={false} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
                    <CartesianGrid strokeDasharray="3 3" />
                    <XAxis dataKey="label" tick={{ fontSize: 12 }} />
                    <YAxis unit={` ${times.unit.unit}`} tick={{ fontSize: 12 }} />
                    <Tooltip />
                    <Legend />
                    {TIME_KEYS.map((k, i) => (
                      <Bar key={k} dataKey={k} fill={SERIES[(i + 4) % SERIES.length]} isAnimationActive={false} />
                    ))}
                  </BarChart>
                </ResponsiveContainer>
              </Chart>
            </section>
          </div>
          <DataTable
            caption={`Conversation measures, ${a.from.slice(0, 10)} to ${a.to.slice(0, 10)} (exclusive)${groupBy ? ` by ${groupBy}` : ''}`}
            filename={`conversation-measures${groupBy ? `-by-${groupBy}` : ''}.csv`}
            columns={[
              'Group',
              'Conversations',
              'First response p50 (s)',
              'First response p90 (s)',
              'Resolution p50 (s)',
              'Resolution p90 (s)',
              'SLA met',
              'SLA breached',
              'SLA attainment',
              'CSAT average',
              'CSAT rated',
              'CSAT response rate',
              'Repeat contacts',
              'Repeat contact rate',
              'Automated',
              'Automation rate',
            ]}
            rows={conversationGroups(a).map((g) => [
              g.label,
              g.conversations,
              g.firstResponseSeconds.p50 ?? '—',
              g.firstResponseSeconds.p90 ?? '—',
              g.resolutionSeconds.p50 ?? '—',
              g.resolutionSeconds.p90 ?? '—',
              g.sla.met,
              g.sla.breached,
              percent(g.sla.attainment),
              g.csat.average ?? '—',
              g.csat.rated,
              percent(g.csat.responseRate),
              g.repeatContact.repeated,
              percent(g.repeatContact.rate),
              g.automation.automated,
              percent(g.automation.rate),
            ])}
            csvRows={conversationGroups(a).map((g) => [
              g.label,
              g.conversations,
              g.firstResponseSeconds.p50 ?? '',
              g.firstResponseSeconds.p90 ?? '',
              g.resolutionSeconds.p50 ?? '',
              g.resolutionSeconds.p90 ?? '',
              g.sla.met,
              g.sla.breached,
              g.sla.attainment ?? '',
              g.csat.average ?? '',
              g.csat.rated,
              g.csat.responseRate ?? '',
              g.repeatContact.repeated,
              g.repeatContact.rate ?? '',
              g.automation.automated,
              g.automation.rate ?? '',
            ])}
          />
          <DataTable
            caption="CSM tasks opened in the period"
            filename="task-measures.csv"
            columns={['Opened', 'Closed', 'SLA met', 'SLA breached', 'SLA attainment']}
            rows={[[a.tasks.opened, a.tasks.closed, a.tasks.sla.met, a.tasks.sla.breached, percent(a.tasks.sla.attainment)]]}
          />
          <p className="muted an-note">
            {a.method.durations} {a.method.percentiles}
          </p>
        </>
      ) : null}
    </>
  );
}

function Card({ label, value, detail }: { label: string; value: string; detail?: string }) {
  return (
    <li className="card">
      <div className="muted">{label}</div>
      <div className="figure">{value}</div>
      {detail ? <div className="muted an-note">{detail}</div> : null}
    </li>
  );
}
