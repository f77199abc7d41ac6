import { Inject, NotFoundException } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { buildTimeline, customerStreamId, type TimelineEntry } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { OrganisationService } from '../conversations/organisation.service';

export interface Timeline {
  customerId: string;
  asOf: string | null;
  entries: TimelineEntry[];
}

/** GET /v1/customers/:id/timeline: the journey in event-time order, from the customer's stream (as of `asOf`). */
export class TimelineQuery extends Query<Timeline> {
  constructor(
    readonly workspaceId: string,
    readonly customerId: string,
    readonly asOf?: Date,
  ) {
    super();
  }
}

@QueryHandler(TimelineQuery)
export class TimelineHandler implements IQueryHandler<TimelineQuery> {
  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    private readonly organisation: OrganisationService,
  ) {}

  async execute({ workspaceId, customerId: id, asOf }: TimelineQuery): Promise<Timeline> {
    const events = await this.events.readStream(customerStreamId(workspaceId, id));
    if (events.length === 0) throw new NotFoundException(`customer "${id}" not found`);
    // the members' names, for "Ann (ann) replied" (a member removed since keeps its id only)
    const { members } = await this.organisation.load(workspaceId);
    const names = new Map([...members.values()].map((m) => [m.memberId, m.name]));
    return { customerId: id, asOf: asOf?.toISOString() ?? null, entries: buildTimeline(events, { asOf, members: names }) };
  }
}
