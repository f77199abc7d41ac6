/** Pure shaping of the segments and broadcasts API answers for the pages (unit-tested in shape.test.ts). */

export interface SegmentDay {
  day: string;
  entered: number;
  left: number;
  members: number;
}

export interface BroadcastSummary {
  broadcastId: string;
  segmentId: string;
  channel: string;
  at: string;
  localTime: string;
  startAt: string;
  scheduledAt: string;
  by: string;
  status: 'scheduled' | 'sending' | 'completed' | 'cancelled';
  counts?: { targeted: number; scheduled: number; suppressed: Record<string, number>; timers: number; skipped: number };
}

/** The sentence a screen reader hears for the counts chart. */
export function countsSummary(days: readonly SegmentDay[]): string {
  if (days.length === 0) return 'Members per day: no days in the period.';
  const first = days[0];
  const last = days[days.length - 1];
  const entered = days.reduce((n, d) => n + d.entered, 0);
  const left = days.reduce((n, d) => n + d.left, 0);
  const peak = days.reduce((p, d) => (d.members > p.members ? d : p), first);
  return (
    `Members per day from ${first.day} to ${last.day}: ${first.members} at the start, ${last.members} at the end` +
    (peak.members > Math.max(first.members, last.members) ? `, at most ${peak.members} on ${peak.day}` : '') +
    `; ${entered} entered and ${left} left in the period.`
  );
}

/** `YYYY-MM-DD` of a date in UTC, `days` before it. */
export function dayBefore(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);
}

export type BroadcastWhen = 'now' | 'at' | 'local';

export interface BroadcastForm {
  id: string;
  segmentId: string;
  channel: string;
  subject: string;
  body: string;
  topic: string;
  when: BroadcastWhen;
  /** A `datetime-local` value (`2026-12-10T09:00`). */
  time: string;
  /** For `at`: the offset of the browser's zone at that time, in minutes east of UTC (`-new Date().getTimezoneOffset()`). */
  offsetMinutes?: number;
  /** A frequency cap: at most `capMax` messages per `capPer` (a duration like "1d") per customer or channel; empty: none. */
  capMax?: string;
  capPer?: string;
  capScope?: 'customer' | 'channel';
  /** Quiet hours in the customer's zone ("21:00" to "08:00"); both empty: none. */
  quietStart?: string;
  quietEnd?: string;
}

/** The guards of the form as the API takes them, or nothing when none is set. */
export function broadcastGuards(form: BroadcastForm): Record<string, unknown> | undefined {
  const guards: Record<string, unknown> = {};
  if (form.capMax?.trim())
    guards.frequencyCaps = [{ max: Number(form.capMax), per: form.capPer?.trim() || '1d', scope: form.capScope ?? 'customer' }];
  if (form.quietStart || form.quietEnd) guards.quietHours = { start: form.quietStart ?? '', end: form.quietEnd ?? '' };
  return Object.keys(guards).length ? guards : undefined;
}

/** `+01:00` for 60, `-05:30` for -330. */
export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const m = Math.abs(minutes);
  return `${sign}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

/**
 * The body of POST /v1/broadcasts from the form: `at` an instant with the browser's offset, `localTime` the wall-clock
 * time applied in each customer's zone, neither for now; empty optional fields left out.
 */
export function broadcastRequest(form: BroadcastForm): Record<string, unknown> {
  const time = form.time.length === 16 ? form.time : form.time.slice(0, 16);
  const send: Record<string, string> = { channel: form.channel, body: form.body };
  if (form.subject.trim()) send.subject = form.subject;
  if (form.topic.trim()) send.topic = form.topic.trim();
  return {
    ...(form.id.trim() ? { id: form.id.trim() } : {}),
    segmentId: form.segmentId,
    send,
    ...(form.when === 'at' ? { at: `${time}:00${formatOffset(form.offsetMinutes ?? 0)}` } : {}),
    ...(form.when === 'local' ? { localTime: time } : {}),
    ...(broadcastGuards(form) ? { guards: broadcastGuards(form) } : {}),
  };
}

/** What a form lacks before it can be sent (in words), or nothing. */
export function broadcastFormProblems(form: BroadcastForm): string[] {
  const problems: string[] = [];
  if (!form.segmentId) problems.push('choose a segment');
  if (!form.body.trim()) problems.push('write the message body');
  if (form.id.trim() && !/^[A-Za-z0-9_-]{1,64}$/.test(form.id.trim())) problems.push('the id: letters, digits, - and _ (at most 64)');
  if (form.when !== 'now' && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(form.time)) problems.push('choose the date and time');
  if (form.capMax?.trim() && !/^[1-9]\d*$/.test(form.capMax.trim())) problems.push('the frequency cap: a whole number of messages');
  if (Boolean(form.quietStart) !== Boolean(form.quietEnd)) problems.push('quiet hours: give both the start and the end');
  return problems;
}

/** When a broadcast goes out, in words. */
export function broadcastWhen(
  b: Pick<BroadcastSummary, 'at' | 'localTime' | 'startAt'>,
  time: (iso: string) => string = (iso) => iso,
): string {
  if (b.localTime) return `${b.localTime.replace('T', ' ')} in each customer's time zone`;
  if (b.at) return `at ${time(b.at)}`;
  return `now (${time(b.startAt)})`;
}

/** Suppressions by reason as `consent 1, frequency-cap 2`, or `none`. */
export function reasons(suppressed: Record<string, number> | undefined): string {
  const entries = Object.entries(suppressed ?? {}).filter(([, n]) => n > 0);
  return entries.length ? entries.map(([r, n]) => `${r} ${n}`).join(', ') : 'none';
}

export const CANCELLABLE = new Set(['scheduled', 'sending']);

export interface BroadcastGuards {
  frequencyCaps?: { max: number; per: string; scope?: string }[];
  quietHours?: { start: string; end: string };
}

/** A broadcast's guards in words. */
export function guardsText(guards: BroadcastGuards): string {
  const parts = (guards.frequencyCaps ?? []).map(
    (c) => `at most ${c.max} per ${c.per}${c.scope === 'channel' ? ' per channel' : ' per customer'}`,
  );
  if (guards.quietHours) parts.push(`quiet from ${guards.quietHours.start} to ${guards.quietHours.end} (customer's time)`);
  return parts.join('; ') || 'none';
}
