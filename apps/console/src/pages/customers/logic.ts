/**
 * The customers area's pure logic: the search filters ↔ the URL ↔ the search API's query, the as-of slider's time
 * mapping, the timeline's rows and labels, and the explain and why-not answers shaped for display.
 */
import type { Query } from '../../lib/api';

// ---------------------------------------------------------------------------------------------------------------
// Search: filters in the URL, mapped to GET /v1/customers

export const STAGES = ['onboarding', 'active', 'at-risk', 'renewal', 'churned', 'none'] as const;
export const TRAIT_OPS = ['eq', 'gt', 'gte', 'lt', 'lte'] as const;
export type TraitOp = (typeof TRAIT_OPS)[number];
export const TRAIT_OP_LABELS: Record<TraitOp, string> = { eq: '=', gt: '>', gte: '≥', lt: '<', lte: '≤' };

export interface TraitFilter {
  name: string;
  op: TraitOp;
  value: string;
}

export interface SearchFilters {
  idPrefix: string;
  traits: TraitFilter[];
  stages: string[];
  segments: string[];
  lastSeenAfter: string;
  lastSeenBefore: string;
  healthMin: string;
  healthMax: string;
  /** id | lastSeen | health | trait.<name> */
  sort: string;
  order: 'asc' | 'desc';
}

export const EMPTY_FILTERS: SearchFilters = {
  idPrefix: '',
  traits: [],
  stages: [],
  segments: [],
  lastSeenAfter: '',
  lastSeenBefore: '',
  healthMin: '',
  healthMax: '',
  sort: 'id',
  order: 'asc',
};

/** `trait.plan` → { plan, eq }; `trait.seats.gte` → { seats, gte } (the engine's reading of the parameter). */
export function parseTraitParam(param: string): { name: string; op: TraitOp } | undefined {
  if (!param.startsWith('trait.')) return undefined;
  const rest = param.slice('trait.'.length);
  const dot = rest.lastIndexOf('.');
  const last = dot >= 0 ? rest.slice(dot + 1) : '';
  const isOp = (TRAIT_OPS as readonly string[]).includes(last);
  const name = isOp ? rest.slice(0, dot) : rest;
  return name ? { name, op: isOp ? (last as TraitOp) : 'eq' } : undefined;
}

/** The filters a URL's search parameters hold (the same names as the search API's). */
export function filtersFromParams(params: URLSearchParams): SearchFilters {
  const traits: TraitFilter[] = [];
  for (const [key, value] of params) {
    const t = parseTraitParam(key);
    if (t) traits.push({ ...t, value });
  }
  const order = params.get('order');
  return {
    idPrefix: params.get('idPrefix') ?? '',
    traits,
    stages: (params.get('stage') ?? '').split(',').filter(Boolean),
    segments: params.getAll('segment').filter(Boolean),
    lastSeenAfter: params.get('lastSeen.after') ?? '',
    lastSeenBefore: params.get('lastSeen.before') ?? '',
    healthMin: params.get('health.min') ?? '',
    healthMax: params.get('health.max') ?? '',
    sort: params.get('sort') || 'id',
    order: order === 'desc' ? 'desc' : 'asc',
  };
}

/** `trait.<name>` for eq (or `trait.<name>.eq` when the name itself ends in an operator), else `trait.<name>.<op>`. */
export function traitParam(t: Pick<TraitFilter, 'name' | 'op'>): string {
  if (t.op !== 'eq') return `trait.${t.name}.${t.op}`;
  return parseTraitParam(`trait.${t.name}`)?.op === 'eq' && parseTraitParam(`trait.${t.name}`)?.name === t.name
    ? `trait.${t.name}`
    : `trait.${t.name}.eq`;
}

/** The search API's query for the filters (empty ones left out; defaults left out). */
export function searchQuery(f: SearchFilters): Query {
  const q: Record<string, string | readonly string[]> = {};
  if (f.idPrefix.trim()) q.idPrefix = f.idPrefix.trim();
  if (f.stages.length) q.stage = f.stages.join(',');
  if (f.segments.length) q.segment = f.segments;
  if (f.lastSeenAfter.trim()) q['lastSeen.after'] = f.lastSeenAfter.trim();
  if (f.lastSeenBefore.trim()) q['lastSeen.before'] = f.lastSeenBefore.trim();
  if (f.healthMin.trim()) q['health.min'] = f.healthMin.trim();
  if (f.healthMax.trim()) q['health.max'] = f.healthMax.trim();
  for (const t of f.traits) if (t.name.trim() && t.value.trim()) q[traitParam({ ...t, name: t.name.trim() })] = t.value.trim();
  if (f.sort && f.sort !== 'id') q.sort = f.sort;
  if (f.order === 'desc') q.order = 'desc';
  return q;
}

/** The URL's search parameters for the filters: the API's own query, so a URL can be read back into filters. */
export function filtersToParams(f: SearchFilters): URLSearchParams {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(searchQuery(f))) {
    if (Array.isArray(v)) for (const x of v) params.append(k, x);
    else params.set(k, String(v));
  }
  return params;
}

/** The sort choices: id, last seen, health and the traits being filtered on (and the current sort). */
export function sortOptions(f: SearchFilters): { value: string; label: string }[] {
  const options = [
    { value: 'id', label: 'Id' },
    { value: 'lastSeen', label: 'Last seen' },
    { value: 'health', label: 'Health' },
  ];
  const names = new Set(f.traits.map((t) => t.name.trim()).filter(Boolean));
  if (f.sort.startsWith('trait.')) names.add(f.sort.slice('trait.'.length));
  for (const n of names) options.push({ value: `trait.${n}`, label: `Trait ${n}` });
  return options;
}

/** Whether to ask for the next page: the last row shown is within `threshold` rows of the end of what is loaded. */
export function shouldLoadMore(lastShown: number | undefined, loaded: number, hasMore: boolean, loading: boolean, threshold = 25) {
  return hasMore && !loading && lastShown !== undefined && lastShown >= loaded - threshold;
}

export function totalLabel(total: number | undefined, capped: boolean | undefined, loaded: number): string {
  if (total === undefined) return `${loaded.toLocaleString('en-GB')} loaded`;
  return `${total.toLocaleString('en-GB')}${capped ? '+' : ''} customer${total === 1 && !capped ? '' : 's'}`;
}

// ---------------------------------------------------------------------------------------------------------------
// The as-of slider

export interface TimeBounds {
  first: number;
  last: number;
}

interface Timed {
  occurredAt: string;
  recordedAt?: string;
}

/**
 * The first and last moments the engine recorded the customer's events at (recordedAt, else occurredAt): `asOf` means
 * "what the engine had recorded by then", so the slider runs over recorded time.
 */
export function timeBounds(entries: readonly Timed[]): TimeBounds | undefined {
  let first = Infinity;
  let last = -Infinity;
  for (const e of entries) {
    const ms = Date.parse(e.recordedAt || e.occurredAt);
    if (Number.isNaN(ms)) continue;
    first = Math.min(first, ms);
    last = Math.max(last, ms);
  }
  return first === Infinity ? undefined : { first, last };
}

/** How many steps the slider has from first to last: one a second, at most 1,000, at least 1. */
export function sliderPositions(b: TimeBounds): number {
  return Math.max(1, Math.min(1000, Math.ceil((b.last - b.first) / 1000)));
}

/**
 * A slider position (0 … positions) as the asOf to ask for: undefined at the end (now: the live timeline), else the
 * ISO time of that step (position 0: the first event's time).
 */
export function asOfAt(b: TimeBounds, position: number): string | undefined {
  const n = sliderPositions(b);
  if (position >= n) return undefined;
  const k = Math.max(0, Math.round(position));
  return new Date(Math.round(b.first + ((b.last - b.first) * k) / n)).toISOString();
}

/** The slider position nearest an asOf (the end for none). */
export function sliderValue(b: TimeBounds, asOf: string | undefined): number {
  const n = sliderPositions(b);
  const ms = asOf === undefined ? NaN : Date.parse(asOf);
  if (Number.isNaN(ms) || ms >= b.last || b.last === b.first) return asOf !== undefined && ms < b.last ? 0 : n;
  return Math.min(n - 1, Math.max(0, Math.round(((ms - b.first) / (b.last - b.first)) * n)));
}

/** A typed date-time (ISO 8601; a date alone is midnight UTC; no offset is UTC) as an ISO time, or an error in words. */
export function parseTypedTime(text: string): { iso: string } | { error: string } {
  const t = text.trim();
  const m = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(t);
  if (!m) return { error: `not a date-time: give it as 2026-03-01T09:30:00Z (got "${t}")` };
  const normal = t.replace(' ', 'T');
  const withZone = m[1] ? (m[4] ? normal : `${normal}Z`) : `${normal.slice(0, 10)}T00:00:00${m[4] ?? 'Z'}`;
  const ms = Date.parse(withZone);
  if (Number.isNaN(ms)) return { error: `not a date-time: "${t}"` };
  return { iso: new Date(ms).toISOString() };
}

// ---------------------------------------------------------------------------------------------------------------
// The timeline

export interface TimelineEntry {
  eventId: string;
  position: string;
  type: string;
  kind: string;
  occurredAt: string;
  recordedAt: string;
  summary: string;
  details: Record<string, unknown>;
}

export type TimelineRow = { type: 'day'; key: string; label: string } | { type: 'entry'; key: string; entry: TimelineEntry };

export const KIND_LABELS: Record<string, string> = {
  identify: 'Identified',
  traits: 'Traits',
  interaction: 'Event',
  page: 'Page',
  account: 'Account',
  alias: 'Alias',
  stage: 'Stage',
  trigger: 'Trigger',
  message: 'Message',
  task: 'Task',
  conversation: 'Conversation',
  sla: 'SLA',
  segment: 'Segment',
  forgotten: 'Forgotten',
};

export const kindLabel = (kind: string) => KIND_LABELS[kind] ?? kind;

/** The badge class of a kind: messages and stages stand out, SLA breaches and forgetting warn. */
export function kindTone(kind: string): '' | 'ok' | 'warn' | 'danger' {
  if (kind === 'sla' || kind === 'forgotten') return 'danger';
  if (kind === 'message' || kind === 'trigger') return 'ok';
  if (kind === 'stage' || kind === 'task') return 'warn';
  return '';
}

const dayOf = (iso: string) => iso.slice(0, 10);

/** "Mon 2 Mar 2026" (UTC). */
export function dayLabel(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return day;
  return d.toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
}

/** The timeline's rows, newest first, with a row for each (UTC) day before its events. */
export function timelineRows(entries: readonly TimelineEntry[]): TimelineRow[] {
  const rows: TimelineRow[] = [];
  let day: string | undefined;
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i];
    const d = dayOf(e.occurredAt);
    if (d !== day) {
      rows.push({ type: 'day', key: `day-${d}`, label: dayLabel(d) });
      day = d;
    }
    rows.push({ type: 'entry', key: e.eventId, entry: e });
  }
  return rows;
}

/** The message an entry is about (a message's scheduling, delivery, opening, ...), to link to its explain page. */
export function messageIdOf(entry: TimelineEntry): string | undefined {
  if (entry.kind !== 'message') return undefined;
  const id = entry.details.messageId;
  return typeof id === 'string' && id ? id : undefined;
}

/** The stage changes, oldest first: from, to, why, when. */
export function stageHistory(entries: readonly TimelineEntry[]): { at: string; from: string; to: string; reason: string }[] {
  return entries
    .filter((e) => e.type === 'StageChanged')
    .map((e) => ({
      at: e.occurredAt,
      from: e.details.from == null ? '—' : String(e.details.from),
      to: String(e.details.to ?? ''),
      reason: String(e.details.reason ?? ''),
    }));
}

// ---------------------------------------------------------------------------------------------------------------
// Explain and why-not

export interface ExplainedEvent {
  id: string;
  type: string;
  occurredAt?: string;
  recordedAt?: string;
  source?: string;
  detail?: string;
}

export interface GuardVerdict {
  guard: string;
  verdict: 'passed' | 'suppressed' | 'deferred';
  detail: string;
}

export interface MessageExplanation {
  messageId: string;
  customerId: string;
  channel: string;
  status: string;
  decision: { event: ExplainedEvent; outcome: string; reason?: string; detail?: string; notBefore?: string };
  causedBy: ExplainedEvent[];
  trigger?: { id: string; name?: string; version?: number; step?: string; runId?: string; run: ExplainedEvent[] };
  template?: { id?: string; version?: number; subject?: string; body: string };
  broadcast?: { id: string; segmentId?: string; status?: string; at?: string; by?: string; events: ExplainedEvent[] };
  conversation?: { conversationId: string; channel: string; status: string; events: ExplainedEvent[] };
  guards: GuardVerdict[];
  delivery: (ExplainedEvent & { attempt?: number })[];
}

export const verdictTone = (v: string): 'ok' | 'warn' | 'danger' => (v === 'passed' ? 'ok' : v === 'deferred' ? 'warn' : 'danger');

/** The explanation in a person's order: one headline, then the chain from the root cause to the last delivery step. */
export function shapeExplain(x: MessageExplanation) {
  const outcome =
    x.decision.outcome === 'suppressed'
      ? `Suppressed${x.decision.reason ? `: ${x.decision.reason}` : ''}${x.decision.detail ? ` (${x.decision.detail})` : ''}`
      : `Scheduled via ${x.channel}, now ${x.status}${x.decision.notBefore ? ` (not before ${x.decision.notBefore})` : ''}`;
  const by = x.trigger
    ? `trigger ${x.trigger.name ? `${x.trigger.name} (${x.trigger.id})` : x.trigger.id}${x.trigger.version !== undefined ? ` v${x.trigger.version}` : ''}`
    : x.broadcast
      ? `broadcast ${x.broadcast.id}`
      : x.conversation
        ? `conversation ${x.conversation.conversationId}`
        : 'no trigger';
  const passed = x.guards.filter((g) => g.verdict === 'passed').length;
  return {
    headline: `${outcome} — by ${by}`,
    guardsSummary: x.guards.length ? `${passed} of ${x.guards.length} guards passed` : 'No guard was checked',
    // causedBy runs from the decision back to the root: a person reads causes first
    chain: [...x.causedBy].reverse(),
    delivery: x.delivery,
    firstBlocking: x.guards.find((g) => g.verdict !== 'passed'),
  };
}

export interface WhyNotCheck {
  check: string;
  passed: boolean;
  text: string;
  events?: { id: string; name?: string; type: string; at: string }[];
}

export interface WhyNotAnswer {
  customerId: string;
  triggerId: string;
  version: number;
  asOf: string;
  got: boolean;
  code: string;
  reason: string;
  events: { id: string; name?: string; type: string; at: string }[];
  messages?: { messageId: string; channel: string; triggerId?: string; at: string }[];
  message?: { messageId: string; channel: string; step?: string; scheduledAt: string; status: string };
  decidedOn?: { id: string; name?: string; type: string; at: string };
  checks: WhyNotCheck[];
}

/** The first check that failed (what kept the customer out), and a headline. */
export function whyNotSummary(a: WhyNotAnswer): { headline: string; blocking?: WhyNotCheck; tone: 'ok' | 'warn' | 'danger' } {
  const blocking = a.checks.find((c) => !c.passed);
  if (a.got) return { headline: `${a.customerId} got it: ${a.reason}`, tone: 'ok' };
  if (a.code === 'would-send' || a.code === 'waiting' || a.code === 'not-due-yet' || a.code === 'quiet-hours')
    return { headline: `Not yet (${a.code}): ${a.reason}`, blocking, tone: 'warn' };
  return { headline: `Kept out (${a.code}): ${a.reason}`, blocking, tone: 'danger' };
}
