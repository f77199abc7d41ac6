import {
  ConflictException,
  Inject,
  Injectable,
  Logger,
  HttpException,
  PreconditionFailedException,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import {
  chooseAssignee,
  customerStreamId,
  deterministicId,
  envelope,
  isAvailable,
  ORGANISATION_EVENT_TYPES,
  typed,
  type OrganisationState,
  type RecordedEvent,
  type TeamDefinition,
} from '@journey/domain';
import {
  BackgroundCheckpoint,
  CHECKPOINT_STORE,
  EVENT_STORE,
  markTransient,
  Processor,
  ProcessorHandler,
  WrongExpectedRevisionError,
  type CheckpointStore,
  type EventStore,
} from '@journey/event-store';
import { CLOCK, Organisations, ownerMember, ownerOf, TEAMS_STREAM, type Clock, type Partition, type WorkLoad } from '@journey/reactors';
import { PROJECTIONS, READ_MODEL_STORE, type ReadModelStore } from '@journey/read-models';
import { ENGINE_CONFIG, type EngineConfig } from '../config';
import { HealthChecks } from '../operations/health';
import { SubscriberFailures } from '../operations/subscriber-failures';
import { workLoad } from '../reactors/reactors.module';
import { ConversationsService } from './conversations.service';
import { OrganisationService } from './organisation.service';

/** The subscriber's name (its checkpoint, its dead letters, its /health check) and the `source` of what it writes. */
export const QUEUE_PICKUP = 'queue-pickup';
/** How often members away `until` a time that has passed are looked for (ms). */
export const QUEUE_PICKUP_TICK_MS = 60_000;

/** An item waiting in a team's queue (open, the team's, nobody holding it). */
export interface QueuedItem {
  kind: 'conversation' | 'task';
  customerId: string;
  itemId: string;
  priority: string;
  /** ISO time, or '9999' when none. */
  dueAt: string;
}

/** The queued items of a team (the `work` read model). */
export interface QueuedWork {
  queued(workspaceId: string, teamId: string): Promise<QueuedItem[]>;
  /**
   * The log position the read model has applied (undefined: no work projection in this engine, nothing to wait for):
   * a pickup waits until the model has reached its cause, so an item queued before a member came back is seen.
   */
  position?(): Promise<bigint | undefined>;
}

const RANK: Record<string, number> = { urgent: 0, high: 1, normal: 2, low: 3 };
const rank = (priority: string) => RANK[priority] ?? RANK.normal;
/** Oldest due first, then the most urgent, then by item id (a stable order). */
export const queueOrder = (a: QueuedItem, b: QueuedItem): number =>
  a.dueAt < b.dueAt
    ? -1
    : a.dueAt > b.dueAt
      ? 1
      : rank(a.priority) - rank(b.priority) || (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0);

const isMissingTable = (error: unknown) => /no such table/i.test((error as Error).message);

/**
 * QueuedWork over the `work` read model: open items of the team nobody holds (`team` = the team, `assignee` ''), and
 * tasks opened for the team (the model keeps a task's owner, the team id, as its `assignee`); due first. Nothing while
 * the collection does not exist yet.
 */
export function workQueue(readModels: ReadModelStore, projections = PROJECTIONS): QueuedWork {
  const projection = projections.find((p) => p.collections.some((c) => c.name === 'work'));
  return {
    async queued(workspaceId, teamId) {
      // the team's queue: its conversations and tasks nobody holds (a task opened for a team is one, see WORK_TEAMS)
      const unheld = await readModels
        .find<Record<string, unknown>>('work', { workspaceId, team: teamId, assignee: '', open: 1 }, { orderBy: ['dueAt'] })
        .catch((error: unknown) => {
          if (isMissingTable(error)) return [];
          throw error;
        });
      return unheld
        .map((d) => d.doc)
        .filter((d) => (d.kind === 'conversation' || d.kind === 'task') && typeof d.customerId === 'string' && typeof d.itemId === 'string')
        .map((d) => ({
          kind: d.kind as QueuedItem['kind'],
          customerId: d.customerId as string,
          itemId: d.itemId as string,
          priority: typeof d.priority === 'string' ? d.priority : 'normal',
          dueAt: typeof d.dueAt === 'string' ? d.dueAt : '9999',
        }))
        .sort(queueOrder);
    },
    ...(projection && { position: () => readModels.checkpoint(projection.name) }),
  };
}

export interface QueuePickupOptions {
  store: EventStore;
  checkpoints: CheckpointStore;
  clock: Clock;
  /** The workspace's teams and members now (OrganisationService). */
  organisations: { load(workspaceId: string): Promise<OrganisationState> };
  conversations: Pick<ConversationsService, 'load' | 'act'>;
  work: QueuedWork;
  /** Open items per member, as the assignment reactor counts them. */
  load: WorkLoad;
  /** Only the customers of this process's partition (all when none). */
  partition?: Partition;
  logger?: Pick<Logger, 'log' | 'warn' | 'error'>;
  failures?: ConstructorParameters<typeof Processor>[0]['failures'];
  /** The check for members whose away `until` has passed (default QUEUE_PICKUP_TICK_MS; 0: never). */
  tickMs?: number;
  /** How long a pickup waits for the work model to reach its cause before it fails (transiently) and is retried. */
  workWaitMs?: number;
}

type Outcome = 'assigned' | 'skipped' | 'nobody';

/**
 * Queue pickup: work waiting in a team's queue (a handoff nobody could take, a task opened for the team) goes to a
 * member once one can take it. A subscriber (role `reactor`) over the `teams-` streams: a member back from away
 * (MemberAvailabilityChanged), a member defined into a team (MemberDefined) or a team defined again (TeamDefined) makes
 * it look at the team's queue (the `work` read model, once it has reached the event) and assign it item by item, oldest
 * due first, with `chooseAssignee` (the owner the team's `ownerTrait` names when available, else the least loaded
 * available member, the load counted up by its own assignments), until nobody is available. A member away `until` a
 * time comes back without an event: a tick (every minute) looks for members whose `until` passed since the last tick
 * (at start: every passed one, once) and picks up their teams' queues. Conversations are assigned through
 * ConversationsService.act with the version read as `If-Match` (event ids derive from the conversation's version), tasks
 * by appending CsmTaskAssigned at the stream revision read (id from the task and that revision): an item someone
 * assigned meanwhile, or that a replay finds done, is skipped. Every pickup runs one at a time.
 *
 * The timed return is a tick rather than a durable timer: the durable timers live on customer streams (partitioned by
 * customer), while a member's return concerns a workspace's teams; the members' `until` are in memory already (the
 * organisation folded from the teams streams), so a tick costs a scan of them, and re-checking every passed `until`
 * once at start covers what came due while the process was down. A return is picked up within a minute of its time.
 * Decisions use the organisation as it is now (OrganisationService), not as it was at the event: a replay or a
 * catch-up never assigns to a member who has gone away again since.
 */
export class QueuePickup extends ProcessorHandler {
  readonly processor: Processor;
  /** Every workspace's organisation as the log says (the tick reads the members' `until` from it). */
  /** The teams as the log has them so far (what says which teams a member's return concerns). */
  private readonly orgs = new Organisations();
  private lastTick?: number;
  private tickError?: Error;
  private cancelTick?: () => void;
  private serial: Promise<unknown> = Promise.resolve();
  private readonly owns: (workspaceId: string, customerId: string) => boolean;
  private running = false;

  constructor(private readonly options: QueuePickupOptions) {
    super();
    this.owns = ownerOf(options.partition);
    const p = options.partition;
    const name = p && p.count > 1 ? `${QUEUE_PICKUP}#${p.index}/${p.count}` : QUEUE_PICKUP; // a checkpoint per partition
    this.processor = new Processor({
      name,
      label: 'queue pickup',
      store: options.store,
      filter: { streamPrefixes: [TEAMS_STREAM], eventTypes: [...ORGANISATION_EVENT_TYPES] },
      filterInStore: true,
      checkpoint: new BackgroundCheckpoint(options.checkpoints, name, (e) =>
        options.logger?.error(`${QUEUE_PICKUP}: checkpoint not saved: ${e.message}`),
      ),
      handle: (events) => this.exclusive(() => this.handle(events)),
      failures: {
        ...options.failures,
        now: () => options.clock.now(),
        onFailure: (error, delay, what) =>
          options.logger?.error(`${QUEUE_PICKUP} failed (${what}), retrying in ${delay} ms: ${error.stack ?? error.message}`),
      },
    });
  }

  override get lastError(): Error | undefined {
    return this.processor.lastError ?? this.tickError;
  }

  override async start(): Promise<void> {
    await super.start();
    this.running = true;
    this.arm(0);
  }

  override async stop(): Promise<void> {
    this.running = false;
    this.cancelTick?.();
    await super.stop();
    await this.serial.catch(() => undefined);
  }

  /** Runs the check for members whose `until` passed now (what the tick does), for tests. */
  tick(): Promise<number> {
    return this.exclusive(async () => {
      const now = this.options.clock.now().getTime();
      await this.orgs.ready((await this.options.store.headPosition()) + 1n, this.options.store);
      const teams = new Set<string>();
      for (const [ws, org] of this.orgs.entries())
        for (const m of org.members.values()) {
          const until = m.away && m.awayUntil !== undefined ? Date.parse(m.awayUntil) : NaN;
          if (until <= now && (this.lastTick === undefined || until > this.lastTick)) for (const t of m.teams) teams.add(key(ws, t));
        }
      const assigned = await this.pickupAll(teams, await this.options.store.headPosition());
      this.lastTick = now; // only once picked up: a failed tick is tried again, with the same members
      return assigned;
    });
  }

  private arm(ms: number): void {
    const every = this.options.tickMs ?? QUEUE_PICKUP_TICK_MS;
    if (!this.running || every <= 0) return;
    this.cancelTick = this.options.clock.schedule(() => {
      this.tick()
        .then(() => (this.tickError = undefined))
        .catch((error: unknown) => {
          this.tickError = error as Error;
          this.options.logger?.warn(`${QUEUE_PICKUP}: the check of members back from away failed: ${(error as Error).message}`);
        })
        .finally(() => this.arm(every));
    }, ms);
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.serial.then(work, work);
    this.serial = run.catch(() => undefined);
    return run;
  }

  private async handle(events: RecordedEvent[]): Promise<void> {
    await this.orgs.ready(events[0].position, this.options.store);
    for (const e of events) this.orgs.apply(e);
    const teams = new Set<string>();
    for (const event of events) {
      const e = typed(event);
      const ws = e.metadata.workspaceId;
      const org = this.orgs.get(ws);
      if (e.type === 'TeamDefined') teams.add(key(ws, e.data.teamId));
      else if (e.type === 'MemberDefined' || (e.type === 'MemberAvailabilityChanged' && !e.data.away))
        for (const t of org?.members.get(e.data.memberId)?.teams ?? []) teams.add(key(ws, t));
      else if (
        e.type === 'MemberAvailabilityChanged' &&
        e.data.until !== undefined &&
        Date.parse(e.data.until) <= this.options.clock.now().getTime()
      )
        for (const t of org?.members.get(e.data.memberId)?.teams ?? []) teams.add(key(ws, t)); // away until a time already past
    }
    await this.pickupAll(teams, events[events.length - 1].position);
  }

  private async pickupAll(teams: Set<string>, cause: bigint): Promise<number> {
    let assigned = 0;
    let caughtUp: Promise<void> | undefined;
    for (const k of teams) {
      const [ws, team] = k.split('\u001f');
      assigned += await this.pickup(ws, team, () => (caughtUp ??= this.workAt(cause)));
    }
    return assigned;
  }

  /** Waits until the work model has applied the log up to `position` (an item queued before it is then listed). */
  private async workAt(position: bigint): Promise<void> {
    const { work } = this.options;
    if (!work.position) return;
    const deadline = Date.now() + (this.options.workWaitMs ?? 30_000);
    for (let wait = 10; ; wait = Math.min(wait * 2, 250)) {
      const at = await work.position();
      if (at === undefined || at >= position) return;
      if (Date.now() > deadline || this.processor.signal.aborted)
        throw markTransient(
          new Error(`the work read model is at position ${at}, behind the event at ${position}: picked up once it is there`),
        );
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  /** Assigns the team's queue while somebody of it is available; returns how many items were assigned. */
  async pickup(workspaceId: string, teamId: string, caughtUp: () => Promise<void> = () => Promise.resolve()): Promise<number> {
    const someoneAvailable = async () => {
      const org = await this.options.organisations.load(workspaceId);
      const team = org.teams.get(teamId);
      const now = this.options.clock.now();
      const available = team !== undefined && [...org.members.values()].some((m) => m.teams.includes(teamId) && isAvailable(m, now));
      return available ? { org, team, now } : undefined;
    };
    if (!(await someoneAvailable())) return 0;
    await caughtUp(); // somebody can take work: read the queue once the model has seen what came before
    // the organisation as it is after the wait (a member may have gone away meanwhile)
    const current = await someoneAvailable();
    if (!current) return 0;
    const { org, team, now } = current;
    const items = (await this.options.work.queued(workspaceId, teamId)).filter((i) => this.owns(workspaceId, i.customerId));
    if (items.length === 0) return 0;
    const load = new Map(await this.options.load(workspaceId));
    let assigned = 0;
    for (const item of [...items].sort(queueOrder)) {
      const outcome = await this.assign(workspaceId, team, org, item, load, now);
      if (outcome === 'nobody') break;
      if (outcome === 'assigned') assigned++;
    }
    if (assigned > 0)
      this.options.logger?.log(`${QUEUE_PICKUP}: assigned ${assigned} queued item(s) of team "${teamId}" in "${workspaceId}"`);
    return assigned;
  }

  private async assign(
    workspaceId: string,
    team: TeamDefinition,
    org: OrganisationState,
    item: QueuedItem,
    load: Map<string, number>,
    now: Date,
  ): Promise<Outcome> {
    const { conversations, store } = this.options;
    const teamId = team.teamId;
    for (let attempt = 1; attempt <= 5; attempt++) {
      const { events, conversations: byId, customer } = await conversations.load(workspaceId, item.customerId);
      const { assignee, reason } = chooseAssignee(org, teamId, { owner: ownerMember(customer, team.ownerTrait, org), load, now });
      if (assignee === undefined) return 'nobody';
      const counted = (): Outcome => (load.set(assignee, (load.get(assignee) ?? 0) + 1), 'assigned');
      if (item.kind === 'conversation') {
        const c = byId.get(item.itemId);
        if (!c?.exists || c.status === 'resolved' || c.team !== teamId || c.assignee !== undefined) return 'skipped';
        try {
          const { written } = await conversations.act(
            workspaceId,
            item.customerId,
            item.itemId,
            { type: 'Assign', team: teamId, assignee, priority: c.priority, reason, by: undefined },
            { source: QUEUE_PICKUP, ifMatch: c.version },
          );
          return written > 0 ? counted() : 'skipped';
        } catch (error) {
          if (error instanceof PreconditionFailedException || error instanceof ConflictException) continue; // changed: look again
          if (error instanceof HttpException && error.getStatus() < 500) {
            this.options.logger?.warn(
              `${QUEUE_PICKUP}: conversation "${item.itemId}" of "${item.customerId}" not assigned: ${error.message}`,
            );
            return 'skipped'; // refused by the decider (resolved meanwhile, ...): not this pickup's to retry
          }
          throw error;
        }
      }
      const task = customer.openTasks.find((t) => t.taskId === item.itemId);
      if (!task || task.owner !== teamId) return 'skipped';
      const revision = events[events.length - 1].revision;
      const at = now.toISOString();
      try {
        const { written } = await store.appendToStream(
          customerStreamId(workspaceId, item.customerId),
          [
            envelope({
              id: deterministicId(QUEUE_PICKUP, workspaceId, item.customerId, item.itemId, String(revision)),
              type: 'CsmTaskAssigned',
              data: { taskId: task.taskId, assignee, reason },
              workspaceId,
              customerId: item.customerId,
              occurredAt: at,
              recordedAt: at,
              source: QUEUE_PICKUP,
            }),
          ],
          { expectedRevision: revision },
        );
        return written > 0 ? counted() : 'skipped';
      } catch (error) {
        if (error instanceof WrongExpectedRevisionError) continue;
        throw error;
      }
    }
    return 'skipped'; // kept changing: another writer holds it
  }
}

const key = (workspaceId: string, teamId: string) => `${workspaceId}\u001f${teamId}`;

/** Runs the queue pickup in processes with the `reactor` role. */
@Injectable()
export class QueuePickupWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private pickup?: QueuePickup;

  constructor(
    private readonly health: HealthChecks,
    private readonly failures: SubscriberFailures,
    private readonly conversations: ConversationsService,
    private readonly organisations: OrganisationService,
    @Inject(ENGINE_CONFIG) private readonly config: EngineConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CHECKPOINT_STORE) private readonly checkpoints: CheckpointStore,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.roles.has('reactor')) return;
    const pickup = new QueuePickup({
      store: this.store,
      checkpoints: this.checkpoints,
      clock: this.clock,
      organisations: this.organisations,
      conversations: this.conversations,
      work: workQueue(this.readModels),
      load: workLoad(this.readModels),
      partition: this.config.partition,
      logger: new Logger(QUEUE_PICKUP),
      failures: this.failures.settings,
    });
    this.pickup = pickup;
    this.health.registerSubscriber(QUEUE_PICKUP, pickup, (e) => `failing at position ${pickup.processor.position}: ${e.message}`);
    await pickup.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.pickup?.stop();
  }

  /** The running pickup (only in processes with the reactor role), e.g. to `waitFor` a position in tests. */
  get running(): QueuePickup | undefined {
    return this.pickup;
  }
}
