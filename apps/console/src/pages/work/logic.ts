/**
 * The work area's pure logic: the queue's order, the SLA countdown of an item, the thread grouped for reading, the
 * snooze presets. No React, no fetch: unit-tested in logic.test.ts.
 */

export type Priority = 'urgent' | 'high' | 'normal' | 'low';
export const PRIORITIES: readonly Priority[] = ['urgent', 'high', 'normal', 'low'];

/** One item of GET /v1/work. */
export interface WorkItem {
  kind: 'conversation' | 'task';
  itemId: string;
  customerId: string;
  title: string;
  status: 'open' | 'snoozed';
  priority: string;
  assignee: string | null;
  team: string | null;
  dueAt: string | null;
  updatedAt: string;
  channel: string | null;
  preview: string;
  lastFrom: 'customer' | 'agent' | null;
  lastMessageId: string | null;
  waitingOn: 'agent' | 'customer' | null;
  slaBreached: boolean;
  breaches: string[];
  version: number;
}

export interface WorkPage {
  items: WorkItem[];
  nextCursor?: string;
}

/** One entry of a conversation's thread. */
export interface ThreadEntry {
  messageId: string;
  from: 'customer' | 'agent' | 'note';
  body: string;
  at: string;
  channel?: string;
  by?: string;
  automated?: boolean;
  sentiment?: number;
}

/** GET /v1/customers/:id/conversations/:conversationId. */
export interface Conversation {
  customerId: string;
  conversationId: string;
  status: 'open' | 'snoozed' | 'resolved';
  channel: string;
  subject?: string;
  team?: string;
  assignee?: string;
  priority: Priority;
  held: boolean;
  tags: string[];
  startedAt?: string;
  firstResponseAt?: string;
  resolvedAt?: string;
  resolvedBy?: string;
  snoozedUntil?: string;
  waitingOn: 'agent' | 'customer';
  thread: ThreadEntry[];
  rating?: { score: number; comment?: string };
  version: number;
}

const priorityRank = (p: string): number => {
  const i = (PRIORITIES as readonly string[]).indexOf(p);
  return i < 0 ? PRIORITIES.length : i;
};

/**
 * The queue's order, as the engine sorts GET /v1/work: due first (nothing due last), then priority (urgent before
 * low), then the oldest change, then the id (a stable order). Returns a new array.
 */
export function sortWork<T extends Pick<WorkItem, 'dueAt' | 'priority' | 'updatedAt' | 'itemId'>>(items: readonly T[]): T[] {
  const due = (d: string | null) => (d === null ? Number.POSITIVE_INFINITY : Date.parse(d));
  return [...items].sort(
    (a, b) =>
      due(a.dueAt) - due(b.dueAt) ||
      priorityRank(a.priority) - priorityRank(b.priority) ||
      Date.parse(a.updatedAt) - Date.parse(b.updatedAt) ||
      (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0),
  );
}

/** The items of several pages, each once (a later page's copy of an item wins), in the queue's order. */
export function mergePages(pages: readonly WorkPage[]): WorkItem[] {
  const byId = new Map<string, WorkItem>();
  for (const page of pages) for (const item of page.items) byId.set(`${item.kind}:${item.itemId}`, item);
  return sortWork([...byId.values()]);
}

/** A countdown that changes every second: "42 s", "4 min 05 s", "3 h 59 min 58 s", then days and hours. */
export function formatCountdown(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const two = (n: number) => String(n).padStart(2, '0');
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${two(s % 60)} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${two(Math.floor((s % 3600) / 60))} min ${two(s % 60)} s`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** How long ago, coarse (a breach is read in minutes): "just now", "5 min", "2 h 10 min", "3 d 4 h". */
export function formatAgo(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) {
    const m = Math.floor((s % 3600) / 60);
    return `${Math.floor(s / 3600)} h${m ? ` ${m} min` : ''}`;
  }
  const h = Math.floor((s % 86_400) / 3600);
  return `${Math.floor(s / 86_400)} d${h ? ` ${h} h` : ''}`;
}

/** Within this many seconds of its due time an item is shown as at risk. */
export const AT_RISK_SECONDS = 15 * 60;

export type SlaTone = 'none' | 'ok' | 'warn' | 'danger';

export interface SlaState {
  tone: SlaTone;
  /** What the countdown cell says. */
  text: string;
  /** Whether a target was missed (the row is highlighted). */
  breached: boolean;
  /** Seconds until due (negative: past it); undefined when nothing is due. */
  remaining?: number;
}

/**
 * The SLA state of an item at `now`: nothing due; due in a countdown (at risk within 15 minutes); or breached — a
 * missed target the engine recorded (`slaBreached`) or a due time gone by — "breached 5 min ago". A task whose due
 * time is past is "overdue".
 */
export function slaState(item: Pick<WorkItem, 'dueAt' | 'slaBreached' | 'kind'>, now: number): SlaState {
  const word = item.kind === 'task' ? 'overdue' : 'breached';
  if (item.dueAt === null) {
    return item.slaBreached
      ? { tone: 'danger', text: 'SLA breached', breached: true }
      : { tone: 'none', text: 'nothing due', breached: false };
  }
  const remaining = (Date.parse(item.dueAt) - now) / 1000;
  if (remaining <= 0) {
    const ago = -remaining;
    return {
      tone: 'danger',
      text: item.kind === 'task' ? `overdue by ${formatAgo(ago)}` : `${word} ${ago < 1 ? 'just now' : `${formatAgo(ago)} ago`}`,
      breached: true,
      remaining,
    };
  }
  const countdown = `due in ${formatCountdown(remaining)}`;
  if (item.slaBreached) return { tone: 'danger', text: `SLA breached · next ${countdown}`, breached: true, remaining };
  return { tone: remaining <= AT_RISK_SECONDS ? 'warn' : 'ok', text: countdown, breached: false, remaining };
}

/** Who wrote an entry, in words. */
export function authorOf(entry: ThreadEntry): string {
  if (entry.from === 'customer') return 'Customer';
  if (entry.from === 'note') return `Internal note${entry.by ? ` by ${entry.by}` : ''}`;
  if (entry.automated) return 'Automation';
  return entry.by ? `Agent ${entry.by}` : 'Agent';
}

export interface ThreadRun {
  /** Who: 'customer', 'agent:<by>', 'note:<by>'. */
  key: string;
  author: string;
  from: ThreadEntry['from'];
  entries: ThreadEntry[];
}

export interface ThreadDay {
  /** YYYY-MM-DD (UTC). */
  day: string;
  runs: ThreadRun[];
}

/** Consecutive entries of the same author within this many seconds read as one run. */
export const RUN_GAP_SECONDS = 10 * 60;

/**
 * The thread as it is read: in time order, by day (UTC), and within a day in runs of consecutive entries by the same
 * author (the customer; one agent; internal notes, never merged with messages) no more than 10 minutes apart.
 */
export function groupThread(thread: readonly ThreadEntry[]): ThreadDay[] {
  const sorted = [...thread].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const days: ThreadDay[] = [];
  for (const entry of sorted) {
    const day = entry.at.slice(0, 10);
    let current = days.at(-1);
    if (!current || current.day !== day) days.push((current = { day, runs: [] }));
    const key = entry.from === 'customer' ? 'customer' : `${entry.from}:${entry.automated ? 'automation' : (entry.by ?? '')}`;
    const run = current.runs.at(-1);
    const last = run?.entries.at(-1);
    if (run && last && run.key === key && (Date.parse(entry.at) - Date.parse(last.at)) / 1000 <= RUN_GAP_SECONDS) run.entries.push(entry);
    else current.runs.push({ key, author: authorOf(entry), from: entry.from, entries: [entry] });
  }
  return days;
}

/** A Date as the value of an `<input type="datetime-local">` (local time, to the minute). */
export function toLocalInput(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}T${two(date.getHours())}:${two(date.getMinutes())}`;
}

/** The value of a datetime-local input as an ISO time, or an error in words. */
export function parseSnoozeUntil(value: string, now: number): { until: string } | { error: string } {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return { error: 'give a date and a time to snooze until' };
  const ms = new Date(value).getTime();
  if (Number.isNaN(ms)) return { error: `"${value}" is not a date and time` };
  if (ms <= now) return { error: 'the time to snooze until must be in the future' };
  return { until: new Date(ms).toISOString() };
}

/** Snooze presets from `now` (local time): in an hour, tomorrow 09:00, next Monday 09:00. */
export function snoozePresets(now: Date): { label: string; at: Date }[] {
  const inHour = new Date(now.getTime() + 3_600_000);
  const tomorrow = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1, 9, 0, 0, 0);
  const daysToMonday = ((8 - now.getDay()) % 7 || 7) as number;
  const monday = new Date(now.getFullYear(), now.getMonth(), now.getDate() + daysToMonday, 9, 0, 0, 0);
  return [
    { label: 'In 1 hour', at: inHour },
    { label: 'Tomorrow 09:00', at: tomorrow },
    { label: 'Next Monday 09:00', at: monday },
  ];
}

/** The If-Match header of an action based on the conversation version the agent read. */
export const ifMatch = (version: number): Record<string, string> => ({ 'if-match': `"${version}"` });

/** The link to an item's page. */
export function itemPath(item: Pick<WorkItem, 'kind' | 'customerId' | 'itemId'>): string {
  const c = encodeURIComponent(item.customerId);
  const i = encodeURIComponent(item.itemId);
  return item.kind === 'conversation' ? `/work/customers/${c}/conversations/${i}` : `/work/customers/${c}/tasks/${i}`;
}

/**
 * The GET /v1/work (and stream) parameters of a "whose work" choice: `me`, `all` (the whole workspace: admin and
 * analyst keys), `queue:<team>` (the team's unassigned items), `member:<id>`.
 */
export function scopeQuery(whose: string): { assignee?: string; team?: string } {
  if (whose === 'me') return { assignee: 'me' };
  if (whose.startsWith('queue:')) return { assignee: 'none', team: whose.slice('queue:'.length) };
  if (whose.startsWith('member:')) return { assignee: whose.slice('member:'.length) };
  return {};
}
