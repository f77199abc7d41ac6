import { describe, expect, it } from 'vitest';
import {
  formatAgo,
  formatCountdown,
  groupThread,
  ifMatch,
  itemPath,
  mergePages,
  parseSnoozeUntil,
  scopeQuery,
  slaState,
  snoozePresets,
  sortWork,
  type ThreadEntry,
  type WorkItem,
} from './logic';

const item = (over: Partial<WorkItem>): WorkItem => ({
  kind: 'conversation',
  itemId: 'c1',
  customerId: 'bob',
  title: 'Question',
  status: 'open',
  priority: 'normal',
  assignee: null,
  team: 'support',
  dueAt: null,
  updatedAt: '2026-01-01T09:00:00.000Z',
  channel: 'inbox',
  preview: '',
  lastFrom: 'customer',
  lastMessageId: null,
  waitingOn: 'agent',
  slaBreached: false,
  breaches: [],
  version: 1,
  ...over,
});

describe('sortWork', () => {
  it('puts what is due first, nothing due last, then priority, then the oldest change, then the id', () => {
    const items = [
      item({ itemId: 'none-urgent', priority: 'urgent' }),
      item({ itemId: 'late', dueAt: '2026-01-02T00:00:00Z' }),
      item({ itemId: 'early', dueAt: '2026-01-01T12:00:00Z', priority: 'low' }),
      item({ itemId: 'none-low-old', priority: 'low', updatedAt: '2025-12-01T00:00:00Z' }),
      item({ itemId: 'none-high-new', priority: 'high', updatedAt: '2026-01-01T10:00:00Z' }),
      item({ itemId: 'none-high-old', priority: 'high', updatedAt: '2026-01-01T08:00:00Z' }),
      item({ itemId: 'b-same', dueAt: '2026-01-02T00:00:00Z' }),
    ];
    expect(sortWork(items).map((i) => i.itemId)).toEqual([
      'early',
      'b-same',
      'late',
      'none-urgent',
      'none-high-old',
      'none-high-new',
      'none-low-old',
    ]);
    expect(items[0].itemId).toBe('none-urgent'); // a copy: the input is untouched
  });

  it('merges pages, each item once (the later copy wins), in order', () => {
    const merged = mergePages([
      { items: [item({ itemId: 'a', dueAt: '2026-01-03T00:00:00Z' }), item({ itemId: 'b', preview: 'old' })], nextCursor: 'x' },
      { items: [item({ itemId: 'b', preview: 'new', dueAt: '2026-01-01T00:00:00Z' }), item({ itemId: 'a', kind: 'task' })] },
    ]);
    expect(merged.map((i) => `${i.kind}:${i.itemId}:${i.preview}`)).toEqual(['conversation:b:new', 'conversation:a:', 'task:a:']);
  });
});

describe('the SLA countdown', () => {
  const now = Date.parse('2026-01-01T10:00:00.000Z');

  it('counts down by the second, at risk within 15 minutes', () => {
    expect(slaState(item({ dueAt: '2026-01-01T14:00:00.000Z' }), now)).toEqual({
      tone: 'ok',
      text: 'due in 4 h 00 min 00 s',
      breached: false,
      remaining: 14_400,
    });
    expect(slaState(item({ dueAt: '2026-01-01T14:00:00.000Z' }), now + 1000).text).toBe('due in 3 h 59 min 59 s');
    expect(slaState(item({ dueAt: '2026-01-01T10:15:00.000Z' }), now)).toMatchObject({ tone: 'warn', text: 'due in 15 min 00 s' });
    expect(slaState(item({ dueAt: '2026-01-01T10:15:01.000Z' }), now).tone).toBe('ok');
    expect(slaState(item({ dueAt: '2026-01-01T10:00:42.500Z' }), now).text).toBe('due in 42 s');
    expect(slaState(item({ dueAt: '2026-01-03T13:00:00.000Z' }), now).text).toBe('due in 2 d 3 h');
  });

  it('says a breach in danger, in minutes ago; a task is overdue', () => {
    expect(slaState(item({ dueAt: '2026-01-01T09:55:00.000Z' }), now)).toEqual({
      tone: 'danger',
      text: 'breached 5 min ago',
      breached: true,
      remaining: -300,
    });
    expect(slaState(item({ dueAt: '2026-01-01T09:54:30.000Z' }), now).text).toBe('breached 5 min ago');
    expect(slaState(item({ dueAt: '2026-01-01T10:00:00.000Z' }), now).text).toBe('breached just now');
    expect(slaState(item({ dueAt: '2025-12-31T07:00:00.000Z' }), now).text).toBe('breached 1 d 3 h ago');
    expect(slaState(item({ kind: 'task', dueAt: '2026-01-01T08:00:00.000Z' }), now).text).toBe('overdue by 2 h');
  });

  it('keeps a recorded breach highlighted while the next target counts down, and says when nothing is due', () => {
    expect(slaState(item({ slaBreached: true, dueAt: '2026-01-01T11:00:00.000Z' }), now)).toMatchObject({
      tone: 'danger',
      breached: true,
      text: 'SLA breached · next due in 1 h 00 min 00 s',
    });
    expect(slaState(item({ slaBreached: true }), now)).toMatchObject({ tone: 'danger', text: 'SLA breached', breached: true });
    expect(slaState(item({}), now)).toEqual({ tone: 'none', text: 'nothing due', breached: false });
  });

  it('formats countdowns and ages', () => {
    expect(formatCountdown(0)).toBe('0 s');
    expect(formatCountdown(-5)).toBe('0 s');
    expect(formatCountdown(65)).toBe('1 min 05 s');
    expect(formatCountdown(3661)).toBe('1 h 01 min 01 s');
    expect(formatAgo(59)).toBe('59 s');
    expect(formatAgo(3600)).toBe('1 h');
    expect(formatAgo(3 * 3600 + 120)).toBe('3 h 2 min');
    expect(formatAgo(86_400)).toBe('1 d');
  });
});

describe('groupThread', () => {
  const e = (messageId: string, from: ThreadEntry['from'], at: string, by?: string, automated?: boolean): ThreadEntry => ({
    messageId,
    from,
    body: messageId,
    at,
    ...(by && { by }),
    ...(automated && { automated }),
  });

  it('orders the thread by time, by day, in runs of one author; notes never join messages', () => {
    const days = groupThread([
      e('m2', 'customer', '2026-01-05T09:03:00.000Z'),
      e('m1', 'customer', '2026-01-05T09:00:00.000Z'),
      e('n1', 'note', '2026-01-05T09:05:00.000Z', 'sam'),
      e('m3', 'agent', '2026-01-05T09:06:00.000Z', 'sam'),
      e('m4', 'agent', '2026-01-05T09:07:00.000Z', 'sam'),
      e('m5', 'agent', '2026-01-05T09:08:00.000Z', 'lee'),
      e('m6', 'agent', '2026-01-05T09:09:00.000Z', undefined, true),
      e('m7', 'customer', '2026-01-05T09:30:00.000Z'),
      e('m8', 'customer', '2026-01-05T09:45:00.000Z'),
      e('m9', 'customer', '2026-01-06T08:00:00.000Z'),
    ]);
    expect(days.map((d) => d.day)).toEqual(['2026-01-05', '2026-01-06']);
    expect(days[0].runs.map((r) => [r.author, r.entries.map((x) => x.messageId).join(',')])).toEqual([
      ['Customer', 'm1,m2'],
      ['Internal note by sam', 'n1'],
      ['Agent sam', 'm3,m4'],
      ['Agent lee', 'm5'],
      ['Automation', 'm6'],
      ['Customer', 'm7'],
      ['Customer', 'm8'], // 15 minutes later: a run of its own
    ]);
    expect(days[0].runs[1].from).toBe('note');
    expect(days[1].runs).toHaveLength(1);
  });

  it('answers no days for an empty thread', () => {
    expect(groupThread([])).toEqual([]);
  });
});

describe('snooze and actions', () => {
  const now = new Date(2026, 0, 7, 15, 30); // a Wednesday, local time

  it('parses the snooze time, refusing a past or missing one in words', () => {
    expect(parseSnoozeUntil('2026-01-08T09:00', now.getTime())).toEqual({ until: new Date(2026, 0, 8, 9, 0).toISOString() });
    expect(parseSnoozeUntil('', now.getTime())).toEqual({ error: 'give a date and a time to snooze until' });
    expect(parseSnoozeUntil('2026-01-07T15:00', now.getTime())).toEqual({ error: 'the time to snooze until must be in the future' });
  });

  it('offers an hour, tomorrow morning and next Monday morning', () => {
    const presets = snoozePresets(now);
    expect(presets.map((p) => p.label)).toEqual(['In 1 hour', 'Tomorrow 09:00', 'Next Monday 09:00']);
    expect(presets[0].at.getTime() - now.getTime()).toBe(3_600_000);
    expect(presets[1].at).toEqual(new Date(2026, 0, 8, 9, 0));
    expect(presets[2].at).toEqual(new Date(2026, 0, 12, 9, 0));
    // on a Monday, next Monday is a week on
    expect(snoozePresets(new Date(2026, 0, 12, 8, 0))[2].at).toEqual(new Date(2026, 0, 19, 9, 0));
  });

  it('sends the version read as If-Match, and links items to their page', () => {
    expect(ifMatch(7)).toEqual({ 'if-match': '"7"' });
    expect(itemPath({ kind: 'conversation', customerId: 'a b', itemId: 'c/1' })).toBe('/work/customers/a%20b/conversations/c%2F1');
    expect(itemPath({ kind: 'task', customerId: 'bob', itemId: 't1' })).toBe('/work/customers/bob/tasks/t1');
  });
});

describe('scopeQuery', () => {
  it('turns a choice of whose work into the queue parameters', () => {
    expect(scopeQuery('me')).toEqual({ assignee: 'me' });
    expect(scopeQuery('queue:support')).toEqual({ assignee: 'none', team: 'support' });
    expect(scopeQuery('member:sam')).toEqual({ assignee: 'sam' });
    expect(scopeQuery('all')).toEqual({});
  });
});
