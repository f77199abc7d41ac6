import { BadRequestException, Inject, NotFoundException } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import {
  customerStreamId,
  evolveTrigger,
  initialTriggerState,
  parseDuration,
  triggerProgram,
  triggerStreamId,
  upcomingTimeline,
  type TriggerState,
  type UpcomingTimeline,
} from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { replyRenderer } from '@journey/messaging';
import { CLOCK, type Clock } from '@journey/reactors';

export const DEFAULT_HORIZON = '30d';
/** The longest forecast asked for: a year. */
export const MAX_HORIZON_DAYS = 366;

/** `horizon` query parameter: a duration (`30d`, `12h`, `2w`) up to a year; default 30 days. */
export function parseHorizon(value: unknown): number {
  if (value === undefined || value === '') return parseDuration(DEFAULT_HORIZON)!.ms;
  const d = parseDuration(value);
  if (!d || d.ms <= 0 || d.ms > MAX_HORIZON_DAYS * 86_400_000)
    throw new BadRequestException(
      `horizon must be a duration such as 30d, 12h or 2w, more than 0 and at most ${MAX_HORIZON_DAYS}d, got ${JSON.stringify(value)}`,
    );
  return d.ms;
}

/** GET /v1/customers/:id/upcoming: the customer's pending timers and what the triggers would do if nothing changes. */
export class UpcomingQuery extends Query<UpcomingTimeline> {
  constructor(
    readonly workspaceId: string,
    readonly customerId: string,
    readonly horizonMs: number,
  ) {
    super();
  }
}

const DEFINITION_TYPES = ['TriggerDefined', 'TriggerEnabled', 'TriggerDisabled'];

@QueryHandler(UpcomingQuery)
export class UpcomingHandler implements IQueryHandler<UpcomingQuery> {
  private readonly renderReply = replyRenderer();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ workspaceId, customerId, horizonMs }: UpcomingQuery): Promise<UpcomingTimeline> {
    const [events, states] = await Promise.all([
      this.store.readStream(customerStreamId(workspaceId, customerId)),
      this.triggers(workspaceId),
    ]);
    if (events.length === 0) throw new NotFoundException(`customer "${customerId}" not found`);
    const programs = [...states.values()].filter((s) => s.version > 0).map((s) => triggerProgram(s));
    return upcomingTimeline(programs, events, { now: this.clock.now(), horizonMs, renderReply: this.renderReply });
  }

  /** The workspace's triggers (every version: a run keeps the version it started on), enabled or not. */
  private async triggers(workspaceId: string): Promise<Map<string, TriggerState>> {
    const events = await this.store.readAll({
      filter: { streamPrefixes: [triggerStreamId(workspaceId, '')], eventTypes: DEFINITION_TYPES },
    });
    const states = new Map<string, TriggerState>();
    for (const e of events) {
      if (e.metadata.workspaceId !== workspaceId) continue; // `trigger-a-` is also the prefix of workspace `a-b`'s streams
      const id = String(e.data.triggerId);
      states.set(id, evolveTrigger(states.get(id) ?? initialTriggerState(id), e));
    }
    return states;
  }
}
