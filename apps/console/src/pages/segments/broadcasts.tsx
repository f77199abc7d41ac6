import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { ConfirmDialog, DataTable, ErrorMessage, Loading, PageHeading } from '../../components/ui';
import { formatTime } from '../../lib/format';
import { useApi, useCan } from '../../lib/session';
import { Chart, SERIES } from '../../components/chart';
import { useSegments } from './queries';
import {
  CANCELLABLE,
  broadcastFormProblems,
  broadcastRequest,
  broadcastWhen,
  guardsText,
  reasons,
  type BroadcastForm,
  type BroadcastGuards,
  type BroadcastSummary,
} from './shape';

interface BroadcastDetail {
  id: string;
  segmentId: string;
  status: BroadcastSummary['status'];
  send: { channel: string; subject?: string; body: string; topic?: string };
  at?: string;
  localTime?: string;
  startAt: string;
  guards?: BroadcastGuards;
  scheduledAt?: string;
  by?: string;
  completedAt?: string;
  cancelledAt?: string;
  fanOut: { targeted: number; scheduled: number; suppressed: Record<string, number>; timers: number; skipped: number };
  analytics: {
    targeted: number;
    pending: number;
    scheduled: number;
    suppressed: Record<string, number>;
    sent: number;
    delivered: number;
    failed: number;
    opened: number;
    clicked: number;
  };
}

const STATUS_BADGE: Record<string, string> = { scheduled: 'warn', sending: 'warn', completed: 'ok', cancelled: 'danger' };
const CHANNELS = ['inbox', 'email', 'slack', 'webhook', 'log'];

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge ${STATUS_BADGE[status] ?? ''}`}>{status}</span>;
}

/** The workspace's broadcasts (of one segment with `segmentId`), newest first. */
export function BroadcastsSection({ segmentId }: { segmentId?: string }) {
  const api = useApi();
  const broadcasts = useQuery({
    queryKey: ['broadcasts'],
    queryFn: () => api.get<{ broadcasts: BroadcastSummary[] }>('/v1/broadcasts'),
    refetchInterval: 5000,
  });
  const list = (broadcasts.data?.broadcasts ?? []).filter((b) => segmentId === undefined || b.segmentId === segmentId);
  return (
    <section aria-labelledby="broadcasts-h">
      <h2 id="broadcasts-h">{segmentId ? `Broadcasts to ${segmentId}` : 'Broadcasts'}</h2>
      <ErrorMessage error={broadcasts.error} title="Could not load the broadcasts" />
      {broadcasts.isPending ? <Loading label="Loading the broadcasts…" /> : null}
      {broadcasts.data ? (
        <DataTable
          caption={`${list.length} broadcast${list.length === 1 ? '' : 's'}, newest first`}
          filename={segmentId ? `broadcasts-${segmentId}.csv` : 'broadcasts.csv'}
          columns={['Broadcast', 'Segment', 'Channel', 'When', 'Status', 'Targeted', 'Scheduled', 'Suppressed']}
          rows={list.map((b) => [
            <Link key="b" to={`/segments/broadcasts/${encodeURIComponent(b.broadcastId)}`}>
              {b.broadcastId}
            </Link>,
            <Link key="s" to={`/segments/${encodeURIComponent(b.segmentId)}`}>
              {b.segmentId}
            </Link>,
            b.channel,
            broadcastWhen(b, formatTime),
            <StatusBadge key="st" status={b.status} />,
            b.counts?.targeted ?? 0,
            b.counts?.scheduled ?? 0,
            reasons(b.counts?.suppressed),
          ])}
          csvRows={list.map((b) => [
            b.broadcastId,
            b.segmentId,
            b.channel,
            b.at || b.localTime || b.startAt,
            b.status,
            b.counts?.targeted ?? 0,
            b.counts?.scheduled ?? 0,
            reasons(b.counts?.suppressed),
          ])}
        />
      ) : null}
    </section>
  );
}

export function NewBroadcastPage() {
  const canEdit = useCan('editSegments');
  const [params] = useSearchParams();
  const api = useApi();
  const navigate = useNavigate();
  const client = useQueryClient();
  const segments = useSegments();
  const [form, setForm] = useState<BroadcastForm>({
    id: '',
    segmentId: params.get('segment') ?? '',
    channel: 'inbox',
    subject: '',
    body: '',
    topic: '',
    when: 'now',
    time: '',
  });
  const [problems, setProblems] = useState<string[]>([]);
  const create = useMutation({
    mutationFn: (body: Record<string, unknown>) => api.post<BroadcastDetail>('/v1/broadcasts', body),
    onSuccess: async (b) => {
      await client.invalidateQueries({ queryKey: ['broadcasts'] });
      void navigate(`/segments/broadcasts/${encodeURIComponent(b.id)}`);
    },
  });
  const set = <K extends keyof BroadcastForm>(k: K, v: BroadcastForm[K]) => setForm((f) => ({ ...f, [k]: v }));
  if (!canEdit)
    return (
      <>
        <PageHeading>New broadcast</PageHeading>
        <p>This key may read broadcasts but not send them (a csm or admin key may).</p>
      </>
    );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found = broadcastFormProblems(form);
    setProblems(found);
    if (found.length) return;
    const offsetMinutes = form.when === 'at' ? -new Date(form.time).getTimezoneOffset() : undefined;
    create.mutate(broadcastRequest({ ...form, offsetMinutes }));
  };
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return (
    <>
      <PageHeading>New broadcast</PageHeading>
      <p>
        A one-off message to every member of a segment, through the same guards as a trigger (consent, topics, frequency caps, quiet hours).
      </p>
      <form onSubmit={submit} className="seg-form panel" noValidate>
        <div className="row">
          <div className="field">
            <label htmlFor="b-segment">Segment</label>
            <select id="b-segment" value={form.segmentId} onChange={(e) => set('segmentId', e.target.value)} required>
              <option value="">Choose a segment…</option>
              {(segments.data?.segments ?? []).map((s) => (
                <option key={s.id} value={s.id}>
                  {s.id} — {s.name} ({s.members} member{s.members === 1 ? '' : 's'})
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="b-channel">Channel</label>
            <select id="b-channel" value={form.channel} onChange={(e) => set('channel', e.target.value)}>
              {CHANNELS.map((c) => (
                <option key={c}>{c}</option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="b-id">Id (optional)</label>
            <input id="b-id" value={form.id} onChange={(e) => set('id', e.target.value)} placeholder="december-update" />
          </div>
        </div>
        <ErrorMessage error={segments.error} title="Could not load the segments" />
        <div className="field">
          <label htmlFor="b-subject">Subject (optional)</label>
          <input id="b-subject" value={form.subject} onChange={(e) => set('subject', e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="b-body">Message</label>
          <textarea
            id="b-body"
            rows={4}
            value={form.body}
            onChange={(e) => set('body', e.target.value)}
            required
            aria-describedby="b-body-help"
          />
          <span id="b-body-help" className="muted">
            Liquid, as in a trigger&apos;s send: <code>{'{{ customer.traits.name }}'}</code>
          </span>
        </div>
        <div className="field">
          <label htmlFor="b-topic">Topic (optional)</label>
          <input id="b-topic" value={form.topic} onChange={(e) => set('topic', e.target.value)} aria-describedby="b-topic-help" />
          <span id="b-topic-help" className="muted">
            Customers unsubscribed from it are left out.
          </span>
        </div>
        <fieldset className="seg-when">
          <legend>When</legend>
          {(
            [
              ['now', 'Now'],
              ['at', `At a time (${zone})`],
              ['local', "At a time in each customer's own time zone"],
            ] as const
          ).map(([value, label]) => (
            <label key={value} className="seg-radio">
              <input type="radio" name="when" value={value} checked={form.when === value} onChange={() => set('when', value)} /> {label}
            </label>
          ))}
          {form.when !== 'now' ? (
            <div className="field">
              <label htmlFor="b-time">{form.when === 'at' ? `Date and time (${zone})` : 'Local date and time'}</label>
              <input id="b-time" type="datetime-local" value={form.time} onChange={(e) => set('time', e.target.value)} required />
            </div>
          ) : null}
        </fieldset>
        <fieldset className="seg-when">
          <legend>Guards (optional)</legend>
          <p className="muted">Consent and unsubscribed topics always apply; these are added to them.</p>
          <div className="row">
            <div className="field">
              <label htmlFor="b-cap-max">At most (messages)</label>
              <input
                id="b-cap-max"
                inputMode="numeric"
                value={form.capMax ?? ''}
                onChange={(e) => set('capMax', e.target.value)}
                size={6}
              />
            </div>
            <div className="field">
              <label htmlFor="b-cap-per">Per (duration)</label>
              <input id="b-cap-per" value={form.capPer ?? ''} onChange={(e) => set('capPer', e.target.value)} placeholder="1d" size={6} />
            </div>
            <div className="field">
              <label htmlFor="b-cap-scope">Counted per</label>
              <select
                id="b-cap-scope"
                value={form.capScope ?? 'customer'}
                onChange={(e) => set('capScope', e.target.value as 'customer' | 'channel')}
              >
                <option value="customer">customer (every channel)</option>
                <option value="channel">customer and channel</option>
              </select>
            </div>
            <div className="field">
              <label htmlFor="b-quiet-start">Quiet hours from</label>
              <input id="b-quiet-start" type="time" value={form.quietStart ?? ''} onChange={(e) => set('quietStart', e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="b-quiet-end">Quiet hours until</label>
              <input id="b-quiet-end" type="time" value={form.quietEnd ?? ''} onChange={(e) => set('quietEnd', e.target.value)} />
            </div>
          </div>
        </fieldset>
        {problems.length ? (
          <div role="alert" className="error">
            Before sending: {problems.join('; ')}.
          </div>
        ) : null}
        <ErrorMessage error={create.error} title="The engine refused the broadcast" />
        <div className="row seg-actions">
          <button type="submit" className="primary" disabled={create.isPending}>
            {create.isPending ? 'Scheduling…' : form.when === 'now' ? 'Send broadcast' : 'Schedule broadcast'}
          </button>
          <Link className="button" to="/segments">
            Cancel
          </Link>
        </div>
      </form>
    </>
  );
}

export function BroadcastDetailPage() {
  const { broadcastId = '' } = useParams();
  const api = useApi();
  const canEdit = useCan('editSegments');
  const client = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const broadcast = useQuery({
    queryKey: ['broadcast', broadcastId],
    queryFn: () => api.get<BroadcastDetail>(`/v1/broadcasts/${encodeURIComponent(broadcastId)}`),
    refetchInterval: 3000,
  });
  const cancel = useMutation({
    mutationFn: () => api.post<BroadcastDetail>(`/v1/broadcasts/${encodeURIComponent(broadcastId)}/cancel`),
    onSuccess: async (b) => {
      setConfirming(false);
      client.setQueryData(['broadcast', broadcastId], b);
      await client.invalidateQueries({ queryKey: ['broadcasts'] });
    },
    onError: () => setConfirming(false),
  });
  const b = broadcast.data;
  const a = b?.analytics;
  const funnel = a
    ? [
        { stage: 'Targeted', count: a.targeted },
        { stage: 'Scheduled', count: a.scheduled },
        { stage: 'Sent', count: a.sent },
        { stage: 'Delivered', count: a.delivered },
        { stage: 'Opened', count: a.opened },
        { stage: 'Clicked', count: a.clicked },
      ]
    : [];
  return (
    <>
      <PageHeading
        actions={
          canEdit && b && CANCELLABLE.has(b.status) ? (
            <button type="button" className="danger" onClick={() => setConfirming(true)}>
              Cancel broadcast
            </button>
          ) : undefined
        }
      >
        {`Broadcast ${broadcastId}`}
      </PageHeading>
      <p>
        <Link to="/segments">All segments and broadcasts</Link>
      </p>
      <ErrorMessage error={broadcast.error} title="Could not load the broadcast" />
      <ErrorMessage error={cancel.error} title="Could not cancel the broadcast" />
      {broadcast.isPending ? <Loading label="Loading the broadcast…" /> : null}
      {b && a ? (
        <>
          <section aria-labelledby="bc-h" className="panel">
            <h2 id="bc-h">
              To <Link to={`/segments/${encodeURIComponent(b.segmentId)}`}>{b.segmentId}</Link> on {b.send.channel}{' '}
              <StatusBadge status={b.status} />
            </h2>
            <dl className="seg-dl">
              <dt>When</dt>
              <dd>{broadcastWhen({ at: b.at ?? '', localTime: b.localTime ?? '', startAt: b.startAt }, formatTime)}</dd>
              <dt>Fan-out starts</dt>
              <dd>{formatTime(b.startAt)}</dd>
              {b.by ? (
                <>
                  <dt>By</dt>
                  <dd>{b.by}</dd>
                </>
              ) : null}
              {b.completedAt ? (
                <>
                  <dt>Completed</dt>
                  <dd>{formatTime(b.completedAt)}</dd>
                </>
              ) : null}
              {b.cancelledAt ? (
                <>
                  <dt>Cancelled</dt>
                  <dd>{formatTime(b.cancelledAt)}</dd>
                </>
              ) : null}
              {b.send.subject ? (
                <>
                  <dt>Subject</dt>
                  <dd>{b.send.subject}</dd>
                </>
              ) : null}
              <dt>Message</dt>
              <dd>
                <pre className="seg-def">{b.send.body}</pre>
              </dd>
              {b.guards ? (
                <>
                  <dt>Guards</dt>
                  <dd>{guardsText(b.guards)}</dd>
                </>
              ) : null}
              {b.send.topic ? (
                <>
                  <dt>Topic</dt>
                  <dd>{b.send.topic}</dd>
                </>
              ) : null}
            </dl>
          </section>
          <section aria-labelledby="ba-h">
            <h2 id="ba-h">What came of it</h2>
            <Chart
              label={`Broadcast ${broadcastId}: ${funnel.map((f) => `${f.stage.toLowerCase()} ${f.count}`).join(', ')}; suppressed: ${reasons(a.suppressed)}.`}
              height={220}
            >
              <ResponsiveContainer width="100%" height="100%">
                <BarChart data={funnel} accessibilityLayer={false} margin={{ top: 8, right: 16, bottom: 8, left: 0 }}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="stage" tick={{ fontSize: 12 }} />
                  <YAxis allowDecimals={false} tick={{ fontSize: 12 }} />
                  <Tooltip />
                  <Bar dataKey="count" name="Customers" fill={SERIES[0]} isAnimationActive={false} />
                </BarChart>
              </ResponsiveContainer>
            </Chart>
            <DataTable
              caption="Broadcast analytics"
              filename={`broadcast-${broadcastId}.csv`}
              columns={['Targeted', 'Pending', 'Scheduled', 'Suppressed', 'Sent', 'Delivered', 'Failed', 'Opened', 'Clicked']}
              rows={[[a.targeted, a.pending, a.scheduled, reasons(a.suppressed), a.sent, a.delivered, a.failed, a.opened, a.clicked]]}
            />
            <DataTable
              caption="Fan-out (from the broadcast's own stream)"
              filename={`broadcast-${broadcastId}-fan-out.csv`}
              columns={['Targeted', 'Scheduled', 'Suppressed', 'Local-time timers', 'Skipped (left the segment)']}
              rows={[[b.fanOut.targeted, b.fanOut.scheduled, reasons(b.fanOut.suppressed), b.fanOut.timers, b.fanOut.skipped]]}
            />
          </section>
        </>
      ) : null}
      <ConfirmDialog
        open={confirming}
        title={`Cancel broadcast ${broadcastId}?`}
        confirmLabel={cancel.isPending ? 'Cancelling…' : 'Cancel broadcast'}
        onConfirm={() => cancel.mutate()}
        onCancel={() => setConfirming(false)}
      >
        <p>No more of its messages go out; members still waiting for their local time are suppressed (broadcast-cancelled).</p>
      </ConfirmDialog>
    </>
  );
}
