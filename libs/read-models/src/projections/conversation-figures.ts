import type { SlaTarget } from '@journey/domain';
import type { ConversationContactsDoc, ConversationFactDoc, TaskFactDoc } from './conversation-analytics.projection';

export const CONVERSATION_GROUP_BY = ['team', 'assignee', 'priority', 'channel'] as const;
export type ConversationGroupBy = (typeof CONVERSATION_GROUP_BY)[number];

/** p50 and p90 by the nearest-rank method (the smallest value with at least p% of the values at or below it). */
export interface Percentiles {
  count: number;
  p50: number | null;
  p90: number | null;
}

export interface ConversationFigures {
  /** Conversations started in the period. */
  conversations: number;
  /** Seconds (wall clock) from the start to the first agent reply (a person or automation). */
  firstResponseSeconds: Percentiles;
  /** Seconds (wall clock) from the start to the resolution, of the conversations resolved now. */
  resolutionSeconds: Percentiles;
  /** Per SLA target, and both together: items with that target whose outcome is known, those that met it. */
  sla: SlaFigures & { byTarget: Record<SlaTarget, SlaFigures> };
  /** CSAT: ratings, their average (1-5) and the response rate (rated / resolved). */
  csat: { resolved: number; rated: number; average: number | null; responseRate: number | null };
  /** Resolutions followed within 7 days by the customer writing again (a reopen by its reply or a new conversation). */
  repeatContact: { resolutions: number; repeated: number; rate: number | null };
  /** Conversations and customer replies per active customer (one who wrote in the period) per week of the period. */
  engagement: {
    activeCustomers: number;
    weeks: number;
    conversations: number;
    replies: number;
    conversationsPerCustomerPerWeek: number | null;
    repliesPerCustomerPerWeek: number | null;
  };
  /** Resolved with no person involved (ConversationResolved while personInvolved was false) / resolved. */
  automation: { resolved: number; automated: number; rate: number | null };
}

type SlaFigures = { withTarget: number; met: number; breached: number; pending: number; attainment: number | null };

/** CSM tasks opened in the period: how many were closed, and their SLA attainment (first response: assigned to a member). */
export interface TaskFigures {
  opened: number;
  closed: number;
  sla: SlaFigures & { byTarget: Record<SlaTarget, SlaFigures> };
}

export interface ConversationAnalytics {
  from: string;
  to: string;
  groupBy: ConversationGroupBy | null;
  /** How the figures are computed, for the reader. */
  method: { durations: string; percentiles: string; cohort: string; sla: string; repeatContact: string };
  overall: ConversationFigures;
  groups: Array<{ key: string } & ConversationFigures>;
  /** Tasks (overall only): they have no channel, and their team is their SLA's. */
  tasks: TaskFigures;
}

/** Per target: items with the target whose outcome is known (reached, or breached), those that met it. */
function slaFigures<T extends { slaTargets: SlaTarget[]; slaBreaches: SlaTarget[] }>(
  items: readonly T[],
  reached: (item: T, target: SlaTarget) => boolean,
): SlaFigures & { byTarget: Record<SlaTarget, SlaFigures> } {
  const of = (target: SlaTarget): SlaFigures => {
    const withIt = items.filter((i) => i.slaTargets.includes(target));
    const breached = withIt.filter((i) => i.slaBreaches.includes(target)).length;
    const met = withIt.filter((i) => !i.slaBreaches.includes(target) && reached(i, target)).length;
    const known = met + breached;
    return { withTarget: known, met, breached, pending: withIt.length - known, attainment: ratio(met, known) };
  };
  const byTarget = { 'first-response': of('first-response'), resolution: of('resolution') };
  const met = byTarget['first-response'].met + byTarget.resolution.met;
  const breached = byTarget['first-response'].breached + byTarget.resolution.breached;
  return {
    withTarget: met + breached,
    met,
    breached,
    pending: byTarget['first-response'].pending + byTarget.resolution.pending,
    attainment: ratio(met, met + breached),
    byTarget,
  };
}

const WEEK_MS = 7 * 24 * 3_600_000;
const round = (n: number, digits = 4) => Math.round(n * 10 ** digits) / 10 ** digits;
const ratio = (n: number, of: number) => (of > 0 ? round(n / of) : null);

/** Nearest-rank percentile of ascending `sorted`: the value at rank ceil(p/100 * n). */
export function nearestRank(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50: nearestRank(sorted, 50), p90: nearestRank(sorted, 90) };
}

interface Period {
  from: number;
  to: number;
}
const within = (iso: string | null, p: Period) => {
  if (iso === null) return false;
  const t = Date.parse(iso);
  return t >= p.from && t < p.to;
};

/**
 * Every figure over the conversations STARTED in [from, to) (the cohort), except engagement, which counts the
 * conversations started and the customer replies written in [from, to). Exact: computed from every document.
 */
function figures(
  cohort: readonly ConversationFactDoc[],
  all: readonly ConversationFactDoc[],
  resolutions: ReadonlyMap<string, ConversationContactsDoc['resolutions']>,
  period: Period,
): ConversationFigures {
  const answered = cohort.filter((f) => f.firstResponseSeconds !== null);
  const resolved = cohort.filter((f) => f.resolvedAt !== null);
  const rated = resolved.filter((f) => f.csat !== null);
  const allRated = cohort.filter((f) => f.csat !== null);
  const repeats = cohort.flatMap((f) =>
    (resolutions.get(`${f.customerId}\u0000${f.conversationId}`) ?? []).filter((r) => r.conversationId === f.conversationId),
  );
  const started = all.filter((f) => within(f.startedAt, period));
  const replies = all.flatMap((f) => f.customerReplies.filter((at) => within(at, period)).map(() => f.customerId));
  const active = new Set([...started.filter((f) => f.startedBy === '').map((f) => f.customerId), ...replies]);
  const weeks = round((period.to - period.from) / WEEK_MS);
  const perCustomerWeek = (n: number) => (active.size > 0 && weeks > 0 ? round(n / active.size / weeks) : null);
  const automated = resolved.filter((f) => f.automated === 1).length;
  return {
    conversations: cohort.length,
    firstResponseSeconds: percentiles(answered.map((f) => f.firstResponseSeconds!)),
    resolutionSeconds: percentiles(resolved.map((f) => f.resolutionSeconds!)),
    // a resolution also ends the wait for a first response (automation may resolve without a reply)
    sla: slaFigures(cohort, (f, target) => f.resolvedAt !== null || (target === 'first-response' && f.firstResponseAt !== null)),
    csat: {
      resolved: resolved.length,
      rated: rated.length,
      average: allRated.length ? round(allRated.reduce((s, f) => s + f.csat!, 0) / allRated.length, 2) : null,
      responseRate: ratio(rated.length, resolved.length),
    },
    repeatContact: {
      resolutions: repeats.length,
      repeated: repeats.filter((r) => r.repeatAt !== null).length,
      rate: ratio(repeats.filter((r) => r.repeatAt !== null).length, repeats.length),
    },
    engagement: {
      activeCustomers: active.size,
      weeks,
      conversations: started.length,
      replies: replies.length,
      conversationsPerCustomerPerWeek: perCustomerWeek(started.length),
      repliesPerCustomerPerWeek: perCustomerWeek(replies.length),
    },
    automation: { resolved: resolved.length, automated, rate: ratio(automated, resolved.length) },
  };
}

/** The group a conversation is in: its team, priority or channel now; the member holding it (at resolution when resolved). */
function groupOf(f: ConversationFactDoc, by: ConversationGroupBy): string {
  switch (by) {
    case 'team':
      return f.team;
    case 'priority':
      return f.priority;
    case 'channel':
      return f.channel;
    case 'assignee':
      return f.resolvedAt !== null ? f.assigneeAtResolution : f.assignee;
  }
}

/**
 * The conversation analytics of one workspace over [from, to), overall and per group (`groupBy`), from the documents of
 * the `conversation-analytics` read model. With `groupBy=assignee` the first-response times are grouped by the member
 * who held the conversation at its first response, every other figure by the member at resolution (or holding it now);
 * '' is the group of conversations nobody held.
 */
export function conversationFigures(
  facts: readonly ConversationFactDoc[],
  contacts: readonly ConversationContactsDoc[],
  options: { from: Date; to: Date; groupBy?: ConversationGroupBy },
  tasks: readonly TaskFactDoc[] = [],
): ConversationAnalytics {
  const period = { from: options.from.getTime(), to: options.to.getTime() };
  const resolutions = new Map<string, ConversationContactsDoc['resolutions']>();
  for (const c of contacts)
    for (const r of c.resolutions) {
      const key = `${c.customerId}\u0000${r.conversationId}`;
      resolutions.set(key, [...(resolutions.get(key) ?? []), r]);
    }
  const cohort = facts.filter((f) => within(f.startedAt, period));
  const groups: ConversationAnalytics['groups'] = [];
  const by = options.groupBy;
  if (by) {
    // one pass: the documents of each group (and, for assignee, those answered while each member held them)
    const members = new Map<string, ConversationFactDoc[]>();
    const answeredBy = new Map<string, ConversationFactDoc[]>();
    const push = (map: Map<string, ConversationFactDoc[]>, key: string, f: ConversationFactDoc) => {
      const list = map.get(key);
      if (list) list.push(f);
      else map.set(key, [f]);
    };
    for (const f of facts) push(members, groupOf(f, by), f);
    if (by === 'assignee') for (const f of cohort) if (f.firstResponseSeconds !== null) push(answeredBy, f.assigneeAtFirstResponse, f);
    for (const key of [...new Set([...members.keys(), ...answeredBy.keys()])].sort()) {
      const all = members.get(key) ?? [];
      const g = figures(
        all.filter((f) => within(f.startedAt, period)),
        all,
        resolutions,
        period,
      );
      if (by === 'assignee') g.firstResponseSeconds = percentiles((answeredBy.get(key) ?? []).map((f) => f.firstResponseSeconds!));
      if (g.conversations > 0 || g.engagement.replies > 0 || g.firstResponseSeconds.count > 0) groups.push({ key, ...g });
    }
  }
  return {
    from: options.from.toISOString(),
    to: options.to.toISOString(),
    groupBy: by ?? null,
    method: {
      durations: 'seconds of wall-clock time (not business hours), event time of the start to that of the reply or resolution',
      percentiles: 'nearest rank over every conversation of the cohort (exact, no sketch)',
      cohort:
        'conversations started in [from, to); engagement counts the conversations started and customer replies written in [from, to); tasks: opened in [from, to)',
      sla: 'met / (met + breached) over the items with that target (an SLA timer was set) whose outcome is known; pending ones are not counted',
      repeatContact:
        'resolutions after which the customer wrote again within 7 days (reopened it by replying, or started a new conversation)',
    },
    overall: figures(cohort, facts, resolutions, period),
    groups,
    tasks: taskFigures(tasks.filter((t) => within(t.openedAt, period))),
  };
}

function taskFigures(tasks: readonly TaskFactDoc[]): TaskFigures {
  return {
    opened: tasks.length,
    closed: tasks.filter((t) => t.closedAt !== null).length,
    sla: slaFigures(tasks, (t, target) => t.closedAt !== null || (target === 'first-response' && t.assignedAt !== null)),
  };
}
