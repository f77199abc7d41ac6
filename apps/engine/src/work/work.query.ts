import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { NO_DUE, READ_MODEL_STORE, WORK, type FieldValue, type ReadModelStore, type WorkDoc } from '@journey/read-models';
import { encodeCursor, type WorkFilters, type WorkScope } from './work-scope';

/** One item of the queue, as GET /v1/work answers it. */
export interface WorkItemView {
  kind: WorkDoc['kind'];
  itemId: string;
  customerId: string;
  title: string;
  status: WorkDoc['status'];
  priority: string;
  assignee: string | null;
  team: string | null;
  /** ISO time, or null when nothing is due. */
  dueAt: string | null;
  updatedAt: string;
  channel: string | null;
  preview: string;
  lastFrom: WorkDoc['lastFrom'] | null;
  lastMessageId: string | null;
  waitingOn: WorkDoc['waitingOn'] | null;
  slaBreached: boolean;
  breaches: string[];
  /** A conversation's version (send it as If-Match with an action). */
  version: number;
}

export interface WorkPage {
  items: WorkItemView[];
  /** Give it as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

const orNull = (v: string) => (v === '' ? null : v);

export const viewOf = (d: WorkDoc): WorkItemView => ({
  kind: d.kind,
  itemId: d.itemId,
  customerId: d.customerId,
  title: d.title,
  status: d.status,
  priority: d.priority,
  assignee: orNull(d.assignee),
  team: orNull(d.team),
  dueAt: d.dueAt === NO_DUE ? null : d.dueAt,
  updatedAt: d.updatedAt,
  channel: orNull(d.channel),
  preview: d.preview,
  lastFrom: d.lastFrom === '' ? null : d.lastFrom,
  lastMessageId: orNull(d.lastMessageId),
  waitingOn: d.waitingOn === '' ? null : d.waitingOn,
  slaBreached: d.slaBreached === 1,
  breaches: d.breaches,
  version: d.version,
});

/** The store query of a page: open items of the scope, in the queue's order (sortKey), after the cursor. */
export function workWhere(workspaceId: string, scope: WorkScope, filters: WorkFilters): Record<string, FieldValue> {
  return {
    workspaceId,
    ...(scope.team !== undefined && { team: scope.team }),
    ...(scope.assignee !== undefined && { assignee: scope.assignee }),
    open: 1,
    ...(filters.status && { status: filters.status }),
    ...(filters.priority && { priority: filters.priority }),
    ...(filters.kind && { kind: filters.kind }),
  };
}

/** GET /v1/work: a page of open conversations and tasks, what is due first. */
export class WorkQuery extends Query<WorkPage> {
  constructor(
    readonly workspaceId: string,
    readonly scope: WorkScope,
    readonly filters: WorkFilters,
    readonly limit: number,
    readonly cursor?: string,
  ) {
    super();
  }
}

@QueryHandler(WorkQuery)
export class WorkHandler implements IQueryHandler<WorkQuery> {
  constructor(@Inject(READ_MODEL_STORE) private readonly store: ReadModelStore) {}

  async execute({ workspaceId, scope, filters, limit, cursor }: WorkQuery): Promise<WorkPage> {
    const docs = await this.store.find<WorkDoc>(WORK, workWhere(workspaceId, scope, filters), {
      orderBy: ['sortKey'],
      limit: limit + 1,
      ...(cursor !== undefined && { after: { field: 'sortKey', value: cursor } }),
    });
    const page = docs.slice(0, limit).map((d) => d.doc);
    return {
      items: page.map(viewOf),
      ...(docs.length > limit && { nextCursor: encodeCursor(page[page.length - 1].sortKey) }),
    };
  }
}
