/**
 * Service levels of conversations and tasks, as a decider on the customer's stream: when a conversation is handed to a
 * team, its first-response and resolution targets (the team's, for the conversation's priority, in the team's business
 * hours) become durable timers (`TimerScheduled` purpose `sla`); a target met cancels its timer; a timer that fires on
 * a target still unmet raises `SlaBreached` and the team's escalation (a Slack or email notification, a reassignment
 * to the lead). Tasks opened by a trigger's `task` step have a resolution target: their `dueAt`, else the team's. A
 * snoozed conversation is reopened when its snooze timer fires. Pure: the organisation (teams, in log order) and the
 * time are passed in; `evolveSla` folds, `decideSla` returns the effects of one event.
 *
 * Decisions where the issue is silent:
 * - a first response is any `AgentReplied` (a person's or automation's), as the brief of the SLA work says;
 * - targets are counted from the conversation's start (a handoff late in a conversation may be due, or breached, at
 *   once); a conversation reopened after its resolution gets a new resolution target counted from the reopening (the
 *   first-response target is once per conversation); a snooze does not pause the targets;
 * - a change of team or priority replaces the timers (cancelled, scheduled again from the start with the new targets);
 *   a change of assignee alone keeps them; a target breached is not scheduled again (one breach per target; the
 *   resolution target of a reopened conversation is a new one);
 * - resolving a conversation cancels both targets (the first response is not owed any more);
 * - a task's team is its owner when the owner names a team, else the first team of the member it names (the breach
 *   of a task without a team is raised, with no escalation).
 */
import { envelope } from '../envelope';
import { typed, type EventDataByType, type JourneyEvent } from '../events';
import { deterministicId } from '../ids';
import { TASK_PRIORITIES, type TaskPriority } from '../triggers/schema';
import { addBusinessTime } from './business-hours';
import {
  ConversationCommandError,
  decideConversation,
  evolveConversation,
  initialConversationState,
  isConversationEvent,
  type ConversationCommand,
  type ConversationState,
} from './conversation';
import type { OrganisationState } from './organisation';
import type { Notification, SlaTarget, TeamDefinition } from './types';

/** The `source` of the events the SLA decider writes (its effects, for the replay rule). */
export const SLA_SOURCE = 'sla';
export const SLA_TIMER_PURPOSE = 'sla';
export const SNOOZE_TIMER_PURPOSE = 'snooze';

/** The payload of an SLA timer (the shared contract). */
export interface SlaTimerPayload {
  subject: 'conversation' | 'task';
  id: string;
  target: SlaTarget;
  team?: string;
  priority: TaskPriority;
}

export interface SlaTimer {
  timerId: string;
  dueAt: string;
  team?: string;
  priority: TaskPriority;
}

export interface SlaConversation {
  /** The conversation (its thread is not kept: no decision here reads it). */
  state: ConversationState;
  timers: Partial<Record<SlaTarget, SlaTimer>>;
  /** Where the resolution target counts from: the start, or the last reopening after a resolution. */
  resolutionFrom?: string;
  snoozeTimer?: string;
  /** Targets already breached: not scheduled again (a resolution target is, after a reopening). */
  breached?: SlaTarget[];
}

export interface SlaTask {
  taskId: string;
  owner?: string;
  priority: TaskPriority;
  dueAt?: string;
  openedAt: string;
  timer?: SlaTimer;
}

export interface SlaState {
  conversations: Map<string, SlaConversation>;
  tasks: Map<string, SlaTask>;
}

export const initialSlaState = (): SlaState => ({ conversations: new Map(), tasks: new Map() });

/** The event types `decideSla` decides on (`TimerFired` only of purposes `sla` and `snooze`). */
export const SLA_INPUT_TYPES = [
  'ConversationAssigned',
  'AgentReplied',
  'ConversationResolved',
  'ConversationReopened',
  'ConversationSnoozed',
  'CsmTaskOpened',
  'CsmTaskClosed',
  'TimerFired',
] as const;
const INPUTS: ReadonlySet<string> = new Set(SLA_INPUT_TYPES);

export const isSlaInput = (e: JourneyEvent): boolean =>
  INPUTS.has(e.type) && (e.type !== 'TimerFired' || e.data.purpose === SLA_TIMER_PURPOSE || e.data.purpose === SNOOZE_TIMER_PURPOSE);

const FOLDED: ReadonlySet<string> = new Set([
  'SlaBreached',
  'CsmTaskOpened',
  'CsmTaskAssigned',
  'CsmTaskClosed',
  'TimerScheduled',
  'TimerCancelled',
  'TimerFired',
  'CustomerForgotten',
]);

const priorityOf = (p: unknown): TaskPriority => (TASK_PRIORITIES.includes(p as TaskPriority) ? (p as TaskPriority) : 'normal');

/** Folds one event of the customer's stream (a new state when it changes; the same object otherwise). */
export function evolveSla(state: SlaState, event: JourneyEvent): SlaState {
  if (isConversationEvent(event)) {
    const id = event.data.conversationId;
    const before = state.conversations.get(id) ?? { state: initialConversationState(id), timers: {} };
    const next = evolveConversation(before.state, event);
    const c: SlaConversation = { ...before, state: next.thread.length > 0 ? { ...next, thread: [] } : next };
    if (event.type === 'ConversationStarted') c.resolutionFrom = next.startedAt;
    if (event.type === 'ConversationReopened' && before.state.status === 'resolved') {
      c.resolutionFrom = event.metadata.occurredAt;
      c.breached = c.breached?.filter((t) => t !== 'resolution');
    }
    const conversations = new Map(state.conversations).set(id, c);
    return { ...state, conversations };
  }
  if (!FOLDED.has(event.type)) return state;
  const e = typed(event);
  switch (e.type) {
    case 'CustomerForgotten':
      return initialSlaState();
    case 'SlaBreached': {
      const c = e.data.subject === 'conversation' ? state.conversations.get(e.data.id) : undefined;
      if (!c) return state;
      const breached = [...new Set([...(c.breached ?? []), e.data.target])];
      return { ...state, conversations: new Map(state.conversations).set(e.data.id, { ...c, breached }) };
    }
    case 'CsmTaskOpened': {
      if (state.tasks.has(e.data.taskId)) return state;
      const task: SlaTask = {
        taskId: e.data.taskId,
        priority: priorityOf(e.data.priority),
        openedAt: e.metadata.occurredAt,
        ...(e.data.owner !== undefined && { owner: e.data.owner }),
        ...(e.data.dueAt !== undefined && { dueAt: e.data.dueAt }),
      };
      return { ...state, tasks: new Map(state.tasks).set(task.taskId, task) };
    }
    case 'CsmTaskAssigned': {
      const task = state.tasks.get(e.data.taskId);
      return task ? { ...state, tasks: new Map(state.tasks).set(task.taskId, { ...task, owner: e.data.assignee }) } : state;
    }
    case 'CsmTaskClosed': {
      if (!state.tasks.has(e.data.taskId)) return state;
      const tasks = new Map(state.tasks);
      tasks.delete(e.data.taskId);
      return { ...state, tasks };
    }
    case 'TimerScheduled': {
      const payload = e.data.payload ?? {};
      if (e.data.purpose === SNOOZE_TIMER_PURPOSE) {
        const c = state.conversations.get(String(payload.conversationId));
        if (!c) return state;
        return { ...state, conversations: new Map(state.conversations).set(c.state.conversationId, { ...c, snoozeTimer: e.data.timerId }) };
      }
      if (e.data.purpose !== SLA_TIMER_PURPOSE) return state;
      const p = payload as unknown as SlaTimerPayload;
      const timer: SlaTimer = {
        timerId: e.data.timerId,
        dueAt: e.data.dueAt,
        priority: priorityOf(p.priority),
        ...(p.team !== undefined && { team: p.team }),
      };
      if (p.subject === 'task') {
        const task = state.tasks.get(p.id);
        return task ? { ...state, tasks: new Map(state.tasks).set(task.taskId, { ...task, timer }) } : state;
      }
      const c = state.conversations.get(p.id);
      if (!c) return state;
      return { ...state, conversations: new Map(state.conversations).set(p.id, { ...c, timers: { ...c.timers, [p.target]: timer } }) };
    }
    case 'TimerCancelled':
    case 'TimerFired':
      return withoutTimer(state, e.data.timerId);
    default:
      return state;
  }
}

function withoutTimer(state: SlaState, timerId: string): SlaState {
  for (const [id, c] of state.conversations) {
    if (c.snoozeTimer === timerId) {
      const { snoozeTimer: _s, ...rest } = c;
      return { ...state, conversations: new Map(state.conversations).set(id, rest) };
    }
    for (const target of ['first-response', 'resolution'] as const)
      if (c.timers[target]?.timerId === timerId) {
        const timers = { ...c.timers };
        delete timers[target];
        return { ...state, conversations: new Map(state.conversations).set(id, { ...c, timers }) };
      }
  }
  for (const [id, t] of state.tasks)
    if (t.timer?.timerId === timerId) {
      const { timer: _t, ...rest } = t;
      return { ...state, tasks: new Map(state.tasks).set(id, rest) };
    }
  return state;
}

export interface SlaContext {
  now: Date;
  /** The workspace's teams and members as of the event (undefined: none defined). */
  organisation?: OrganisationState;
}

const TARGET_KEY = { 'first-response': 'firstResponse', resolution: 'resolution' } as const;

/**
 * The effects of one event of the customer's stream, decided on `state` (the stream before it): timers scheduled or
 * cancelled, breaches and their escalation, the reopening of a snoozed conversation. Ids derive from the event and
 * what is decided, so deciding the same event again gives the same events.
 */
export function decideSla(state: SlaState, event: JourneyEvent, ctx: SlaContext): JourneyEvent[] {
  if (!isSlaInput(event)) return [];
  const e = typed(event);
  const { workspaceId, customerId } = e.metadata;
  const now = ctx.now.toISOString();
  const out: JourneyEvent[] = [];
  const emit = <T extends keyof EventDataByType>(type: T, data: EventDataByType[T], ...idParts: Array<string | number>) =>
    out.push(
      envelope({
        id: deterministicId('sla', e.id, type, ...idParts),
        type,
        data,
        workspaceId,
        customerId,
        occurredAt: now,
        recordedAt: now,
        source: SLA_SOURCE,
        cause: e,
      }),
    );
  const team = (teamId: string | undefined): TeamDefinition | undefined =>
    teamId === undefined ? undefined : ctx.organisation?.teams.get(teamId);
  const cancel = (timer: SlaTimer | string | undefined, reason: string) => {
    if (timer === undefined) return;
    const timerId = typeof timer === 'string' ? timer : timer.timerId;
    emit('TimerCancelled', { timerId, reason }, timerId);
  };
  const schedule = (payload: SlaTimerPayload, dueAt: number) => {
    const timerId = deterministicId('sla-timer', workspaceId, customerId, payload.subject, payload.id, payload.target, e.id);
    emit('TimerScheduled', { timerId, dueAt: new Date(dueAt).toISOString(), purpose: SLA_TIMER_PURPOSE, payload: { ...payload } }, timerId);
  };
  /** When `target` of the team (for the priority) is due, counted from `from`; undefined when it has none. */
  const dueOf = (t: TeamDefinition | undefined, priority: TaskPriority, target: SlaTarget, from: string | undefined) => {
    const duration = t?.sla?.[priority]?.[TARGET_KEY[target]];
    const start = from === undefined ? NaN : Date.parse(from);
    if (!t || duration === undefined || !Number.isFinite(start)) return undefined;
    return addBusinessTime(start, duration, t.businessHours, t.timeZone);
  };
  /** Conversation commands decided here (a reassignment, a reopening) with ids of this decider. */
  const act = (c: SlaConversation, command: ConversationCommand, tag: string) => {
    try {
      const events = decideConversation(command, c.state, { workspaceId, customerId, now: ctx.now, source: SLA_SOURCE, cause: e });
      events.forEach((x, i) => out.push({ ...x, id: deterministicId('sla', e.id, tag, i) }));
    } catch (error) {
      if (!(error instanceof ConversationCommandError)) throw error;
    }
  };

  switch (e.type) {
    case 'ConversationAssigned': {
      const c = state.conversations.get(e.data.conversationId);
      if (!c?.state.exists || c.state.status === 'resolved') return [];
      const teamId = e.data.team ?? c.state.team;
      const priority = e.data.priority;
      if (e.data.team !== undefined && e.data.team !== c.state.team) {
        // handed to a team: its people are told (a handoff within the team, to a member or the lead, is not one)
        const t = team(e.data.team);
        const text =
          `Handoff: customer "${customerId}" needs a person in team ${t?.name ?? e.data.team} (priority ${priority}` +
          (e.data.triggerId !== undefined ? `, from trigger ${e.data.triggerId})` : ')') +
          (e.data.assignee !== undefined ? `; assigned to ${e.data.assignee}.` : '; waiting in the queue.');
        tell(t?.notifyHandoffs, 'handoff', `Handoff: customer "${customerId}"`, text, c.state.conversationId);
      }
      for (const target of ['first-response', 'resolution'] as const) {
        const existing = c.timers[target];
        if (existing && existing.team === teamId && existing.priority === priority) continue;
        cancel(existing, 'reassigned');
        if (target === 'first-response' && c.state.firstResponseAt !== undefined) continue;
        if (c.breached?.includes(target)) continue; // late already: raised once
        const from = target === 'first-response' ? c.state.startedAt : (c.resolutionFrom ?? c.state.startedAt);
        const dueAt = dueOf(team(teamId), priority, target, from);
        if (dueAt !== undefined)
          schedule(
            { subject: 'conversation', id: c.state.conversationId, target, ...(teamId !== undefined && { team: teamId }), priority },
            dueAt,
          );
      }
      return out;
    }
    case 'AgentReplied':
      cancel(state.conversations.get(e.data.conversationId)?.timers['first-response'], 'met');
      return out;
    case 'ConversationResolved': {
      const c = state.conversations.get(e.data.conversationId);
      if (!c) return [];
      cancel(c.timers['first-response'], 'resolved');
      cancel(c.timers.resolution, 'met');
      cancel(c.snoozeTimer, 'resolved');
      return out;
    }
    case 'ConversationReopened': {
      const c = state.conversations.get(e.data.conversationId);
      if (!c) return [];
      cancel(c.snoozeTimer, 'reopened');
      if (c.state.status === 'resolved' && c.state.team !== undefined) {
        const dueAt = dueOf(team(c.state.team), c.state.priority, 'resolution', e.metadata.occurredAt);
        if (dueAt !== undefined)
          schedule(
            { subject: 'conversation', id: c.state.conversationId, target: 'resolution', team: c.state.team, priority: c.state.priority },
            dueAt,
          );
      }
      return out;
    }
    case 'ConversationSnoozed': {
      const c = state.conversations.get(e.data.conversationId);
      if (!c) return [];
      cancel(c.snoozeTimer, 'snoozed-again');
      const timerId = deterministicId('snooze-timer', workspaceId, customerId, e.data.conversationId, e.id);
      emit(
        'TimerScheduled',
        { timerId, dueAt: e.data.until, purpose: SNOOZE_TIMER_PURPOSE, payload: { conversationId: e.data.conversationId } },
        timerId,
      );
      return out;
    }
    case 'CsmTaskOpened': {
      if (state.tasks.has(e.data.taskId)) return [];
      const priority = priorityOf(e.data.priority);
      const teamId = taskTeam(e.data.owner, ctx.organisation);
      const given = e.data.dueAt === undefined ? undefined : Date.parse(e.data.dueAt);
      const dueAt =
        given !== undefined && Number.isFinite(given) ? given : dueOf(team(teamId), priority, 'resolution', e.metadata.occurredAt);
      if (dueAt !== undefined)
        schedule(
          { subject: 'task', id: e.data.taskId, target: 'resolution', ...(teamId !== undefined && { team: teamId }), priority },
          dueAt,
        );
      return out;
    }
    case 'CsmTaskClosed':
      cancel(state.tasks.get(e.data.taskId)?.timer, 'met');
      return out;
    case 'TimerFired': {
      const payload = e.data.payload ?? {};
      if (e.data.purpose === SNOOZE_TIMER_PURPOSE) {
        const c = state.conversations.get(String(payload.conversationId));
        if (!c || c.snoozeTimer !== e.data.timerId) return [];
        act(c, { type: 'Reopen', reason: 'snooze-ended' }, 'reopen');
        return out;
      }
      const p = payload as unknown as SlaTimerPayload;
      if (p.subject === 'task') {
        const task = state.tasks.get(p.id);
        if (!task?.timer || task.timer.timerId !== e.data.timerId) return [];
        const t = team(task.timer.team);
        const assignee = task.owner !== undefined && ctx.organisation?.members.has(task.owner) ? task.owner : undefined;
        emit('SlaBreached', breach('task', task.taskId, 'resolution', task.timer, assignee));
        notify(t, `Task "${task.taskId}"`, 'resolution', task.timer, assignee);
        if (t?.escalation?.reassignToLead && t.lead !== undefined && t.lead !== task.owner)
          emit('CsmTaskAssigned', { taskId: task.taskId, assignee: t.lead, reason: 'escalation' }, 'lead');
        return out;
      }
      const c = state.conversations.get(p.id);
      const target: SlaTarget = p.target === 'resolution' ? 'resolution' : 'first-response';
      const timer = c?.timers[target];
      if (!c || !timer || timer.timerId !== e.data.timerId) return [];
      const met = target === 'first-response' ? c.state.firstResponseAt !== undefined : c.state.status === 'resolved';
      if (met) return [];
      const t = team(timer.team);
      emit('SlaBreached', breach('conversation', c.state.conversationId, target, timer, c.state.assignee));
      notify(t, `Conversation "${c.state.conversationId}"`, target, timer, c.state.assignee, c.state.conversationId);
      if (t?.escalation?.reassignToLead && t.lead !== undefined && t.lead !== c.state.assignee)
        act(c, { type: 'Assign', team: timer.team, assignee: t.lead, priority: c.state.priority, reason: 'escalation' }, 'lead');
      return out;
    }
    default:
      return [];
  }

  function breach(subject: 'conversation' | 'task', id: string, target: SlaTarget, timer: SlaTimer, assignee: string | undefined) {
    return {
      subject,
      id,
      target,
      dueAt: timer.dueAt,
      ...(timer.team !== undefined && { team: timer.team }),
      priority: timer.priority,
      ...(assignee !== undefined && { assignee }),
    };
  }

  function notify(
    t: TeamDefinition | undefined,
    what: string,
    target: SlaTarget,
    timer: SlaTimer,
    assignee?: string,
    conversationId?: string,
  ) {
    const text =
      `SLA breached: ${what} of customer "${customerId}" missed its ${target} target ` +
      `(team ${t?.name ?? timer.team}, priority ${timer.priority}, due ${timer.dueAt}); ` +
      (assignee !== undefined ? `assigned to ${assignee}.` : 'nobody holds it.');
    tell(t?.escalation?.notify, 'sla-notify', `SLA breached: ${what}`, text, conversationId);
  }

  /** Messages to people (Slack posts, emails), kept literal; `kind` seeds their ids. */
  function tell(to: Notification[] | undefined, kind: string, subject: string, text: string, conversationId?: string) {
    (to ?? []).forEach((n, i) =>
      emit(
        'MessageScheduled',
        {
          messageId: deterministicId(kind, e.id, i),
          channel: n.channel,
          template: { ...(n.channel === 'email' && { subject: literal(subject) }), body: literal(text) },
          ...(n.to !== undefined && { to: n.to }),
          causingEventId: e.id,
          ...(conversationId !== undefined && { conversationId }),
        },
        kind === 'sla-notify' ? 'notify' : kind,
        i,
      ),
    );
  }
}

/**
 * The team a task belongs to: its owner when that names a team (and no member), else the first team of the member it
 * names; undefined when neither.
 */
export function taskTeam(owner: string | undefined, organisation: OrganisationState | undefined): string | undefined {
  if (owner === undefined || !organisation) return undefined;
  const member = organisation.members.get(owner);
  if (member) return member.teams[0];
  return organisation.teams.has(owner) ? owner : undefined;
}

/** Text the dispatcher renders as a Liquid template, kept literal (ids and names may hold `{{`). */
export function literal(text: string): string {
  return `{% raw %}${text.replaceAll('{%', '{ %')}{% endraw %}`;
}
