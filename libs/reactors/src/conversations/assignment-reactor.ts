import {
  chooseAssignee,
  ConversationCommandError,
  decideConversation,
  deterministicId,
  envelope,
  evolveConversation,
  evolveCustomer,
  initialConversationState,
  initialCustomerState,
  isConversationEvent,
  typed,
  type ConversationState,
  type CustomerState,
  type JourneyEvent,
  type OrganisationState,
  type RecordedEvent,
  type ReplayDecider,
} from '@journey/domain';
import type { AppendRequest } from '@journey/event-store';
import { CustomerDecisions } from '../runtime/decider-reactor';
import type { Reactor, ReactorContext } from '../runtime/reactor';
import { Organisations, TEAMS_STREAM } from './organisations';

/** The `source` of the events the assignment reactor writes (its effects, for the replay rule). */
export const ASSIGNMENT_SOURCE = 'assignment';

/** Open items per member of a workspace (the `work` read model: countBy('work', 'assignee', { workspaceId, open: 1 })). */
export type WorkLoad = (workspaceId: string) => Promise<ReadonlyMap<string, number>>;

export interface AssignmentState {
  customer: CustomerState;
  /** The customer's conversations (threads not kept). */
  conversations: Map<string, ConversationState>;
}

export function evolveAssignment(state: AssignmentState, event: JourneyEvent): AssignmentState {
  const customer = evolveCustomer(state.customer, event);
  if (!isConversationEvent(event)) return customer === state.customer ? state : { ...state, customer };
  const id = event.data.conversationId;
  const next = evolveConversation(state.conversations.get(id) ?? initialConversationState(id), event);
  return { customer, conversations: new Map(state.conversations).set(id, next.thread.length > 0 ? { ...next, thread: [] } : next) };
}

/** A handoff to a team nobody holds yet (from a trigger's `handoff` step, or an API call naming only a team). */
const isQueuedHandoff = (e: JourneyEvent): boolean =>
  e.type === 'ConversationAssigned' && typeof e.data.team === 'string' && e.data.assignee === undefined;

/** A task whose owner may name a team (decided against the teams: a member of that id wins). */
const isTaskForOwner = (e: JourneyEvent): boolean => e.type === 'CsmTaskOpened' && typeof e.data.owner === 'string';

export const isAssignmentInput = (e: JourneyEvent): boolean => isQueuedHandoff(e) || isTaskForOwner(e);

/**
 * The member a customer's owner trait names: its value is a member id, or a member's email (any case); undefined when
 * it names nobody (the customer's own traits first, then the traits of its accounts, in the order they were linked).
 */
export function ownerMember(customer: CustomerState, trait: string | undefined, organisation: OrganisationState): string | undefined {
  if (trait === undefined) return undefined;
  const values = [customer.traits[trait], ...customer.accounts.map((g) => customer.accountTraits[g]?.[trait])];
  for (const value of values) {
    if (typeof value !== 'string' || value === '') continue;
    if (organisation.members.has(value)) return value;
    const lower = value.toLowerCase();
    const byEmail = [...organisation.members.values()].find((m) => m.email?.toLowerCase() === lower);
    if (byEmail) return byEmail.memberId;
  }
  return undefined;
}

/**
 * Who gets a queued handoff or a task opened for a team (`chooseAssignee`: the owner the team's `ownerTrait` names when
 * available, else the least loaded available member), and the event that says so; nothing when nobody of the team is
 * available (it stays queued) or the team is unknown. `state`: the customer with `event` folded. Ids derive from the
 * causing event.
 */
export function decideAssignment(
  state: AssignmentState,
  event: JourneyEvent,
  ctx: { now: Date; organisation?: OrganisationState; load: ReadonlyMap<string, number> },
): JourneyEvent[] {
  const org = ctx.organisation;
  if (!org || !isAssignmentInput(event)) return [];
  const e = typed(event);
  const { workspaceId, customerId } = e.metadata;
  const choose = (teamId: string) =>
    chooseAssignee(org, teamId, {
      owner: ownerMember(state.customer, org.teams.get(teamId)?.ownerTrait, org),
      load: ctx.load,
      now: ctx.now,
    });
  if (e.type === 'ConversationAssigned') {
    const teamId = e.data.team!;
    if (!org.teams.has(teamId)) return [];
    const conversation = state.conversations.get(e.data.conversationId);
    if (!conversation) return [];
    const { assignee, reason } = choose(teamId);
    if (assignee === undefined) return [];
    try {
      return decideConversation({ type: 'Assign', team: teamId, assignee, priority: e.data.priority, reason }, conversation, {
        workspaceId,
        customerId,
        now: ctx.now,
        source: ASSIGNMENT_SOURCE,
        cause: e,
      }).map((x, i) => ({ ...x, id: deterministicId('assignment', e.id, i) }));
    } catch (error) {
      if (error instanceof ConversationCommandError) return []; // resolved meanwhile: nothing to assign
      throw error;
    }
  }
  if (e.type === 'CsmTaskOpened') {
    const owner = e.data.owner!;
    if (org.members.has(owner) || !org.teams.has(owner)) return [];
    if (!state.customer.openTasks.some((t) => t.taskId === e.data.taskId)) return [];
    const { assignee, reason } = choose(owner);
    if (assignee === undefined) return [];
    const now = ctx.now.toISOString();
    return [
      envelope({
        id: deterministicId('assignment', e.id, 0),
        type: 'CsmTaskAssigned',
        data: { taskId: e.data.taskId, assignee, reason },
        workspaceId,
        customerId,
        occurredAt: now,
        recordedAt: now,
        source: ASSIGNMENT_SOURCE,
        cause: e,
      }),
    ];
  }
  return [];
}

/**
 * Assignment: a conversation handed to a team with nobody holding it (`ConversationAssigned` with a team and no
 * assignee) goes to a member of the team, and a task opened for a team (`CsmTaskOpened` whose owner is a team id, not
 * a member's) is assigned (`CsmTaskAssigned`) the same way; nobody available: it stays queued. The load of the members
 * comes from `load` (the `work` read model), read once per batch and workspace and counted up by the batch's own
 * assignments. What waits in a team's queue when a member comes back or joins is handed out by the queue pickup
 * (apps/engine/src/conversations/queue-pickup.ts).
 */
export class AssignmentReactor implements Reactor {
  readonly name = 'assignment';
  readonly filter = { streamPrefixes: ['customer-', TEAMS_STREAM] };
  private readonly organisations = new Organisations();
  private readonly decisions: CustomerDecisions<AssignmentState>;
  private loads = new Map<string, Map<string, number>>();

  constructor(
    private readonly load: WorkLoad,
    options: { cacheSize?: number } = {},
  ) {
    const decider: ReplayDecider<AssignmentState> = {
      initial: () => ({ customer: initialCustomerState('', ''), conversations: new Map() }),
      evolve: evolveAssignment,
      isEffect: (e) => e.metadata.source === ASSIGNMENT_SOURCE,
      isInput: isAssignmentInput,
      decide: (state, event, now, folded) => {
        if (folded) return { state, effects: [] };
        const next = evolveAssignment(state, event);
        const load = this.loads.get(event.metadata.workspaceId) ?? new Map<string, number>();
        const effects = decideAssignment(next, event, { now, organisation: this.organisations.get(event.metadata.workspaceId), load });
        for (const x of effects) {
          const assignee = (x.data as { assignee?: string }).assignee;
          if (assignee !== undefined) load.set(assignee, (load.get(assignee) ?? 0) + 1);
        }
        return { state: effects.reduce(evolveAssignment, next), effects };
      },
    };
    this.decisions = new CustomerDecisions(decider, options.cacheSize);
  }

  async react(events: RecordedEvent[], ctx: ReactorContext): Promise<AppendRequest[]> {
    if (events.length === 0) return [];
    await this.organisations.ready(events[0].position, ctx.store);
    this.loads = new Map();
    this.decisions.begin(events);
    for (const event of events) {
      const ws = event.metadata.workspaceId;
      if (event.streamId.startsWith(TEAMS_STREAM)) {
        this.organisations.apply(event);
        continue;
      }
      if (!ctx.owns(ws, event.metadata.customerId)) continue;
      if (isAssignmentInput(event) && event.metadata.source !== ASSIGNMENT_SOURCE && !this.loads.has(ws) && this.organisations.get(ws))
        this.loads.set(ws, new Map(await this.load(ws)));
      await this.decisions.decide(event, ctx);
    }
    return this.decisions.end(events);
  }
}
