import { BadRequestException, ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import {
  InvalidSegmentError,
  SegmentCommandError,
  decideSegment,
  evolveSegment,
  initialSegmentState,
  latestSegmentDefinition,
  segmentStreamId,
  type RecordedEvent,
  type SegmentBackfill,
  type SegmentCommand,
  type SegmentDefinition,
  type SegmentState,
} from '@journey/domain';
import { EVENT_STORE, WrongExpectedRevisionError, type EventStore } from '@journey/event-store';
import {
  READ_MODEL_STORE,
  SEGMENT_COUNTS,
  SEGMENT_MEMBERS,
  SEGMENT_TOTALS,
  segmentTotalDocId,
  type ReadModelStore,
  type SegmentCountDoc,
  type SegmentMemberDoc,
  type SegmentTotalDoc,
  type StoredDoc,
} from '@journey/read-models';
import type { Principal } from '../auth/key-store';

export interface SegmentSummary {
  id: string;
  name: string;
  version: number;
  removed: boolean;
  /** Members now (from the `segment_members` read model). */
  members: number;
}

export interface SegmentDetail extends SegmentSummary {
  description?: string;
  definition: SegmentDefinition;
  versions: Array<{ version: number; definedAt: string; definedBy: string }>;
  /** The one-time evaluation of the existing customers after the latest change, once it started. */
  backfill?: SegmentBackfill;
}

export interface SegmentChange extends Omit<SegmentSummary, 'members'> {
  changed: boolean;
}

export interface SegmentMembersPage {
  segmentId: string;
  total: number;
  members: Array<{ customerId: string; enteredAt: string; version: number }>;
  /** The cursor of the next page (absent on the last one). */
  next?: string;
}

export interface SegmentCountsAnswer {
  segmentId: string;
  from: string;
  to: string;
  days: Array<{ day: string; entered: number; left: number; members: number }>;
}

const TYPES = ['SegmentDefined', 'SegmentRemoved', 'SegmentBackfillProgressed'];
const RETRIES = 3;
const DAY_MS = 86_400_000;
export const MAX_MEMBERS_PAGE = 1000;
export const MAX_COUNT_DAYS = 366;

const definedBy = (principal: Principal) => `http:${principal.role}${principal.memberId !== undefined ? `:${principal.memberId}` : ''}`;

/**
 * Segment definitions through the definition decider (`decideSegment`), appended to the segment's stream with its
 * revision as the expected one (a concurrent writer gets a 409, or decides again without If-Match); membership and
 * counts from the `segment-members` read model.
 */
@Injectable()
export class SegmentsService {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
  ) {}

  async list(workspaceId: string): Promise<SegmentSummary[]> {
    const events = await this.store.readAll({ filter: { streamPrefixes: [segmentStreamId(workspaceId, '')], eventTypes: TYPES } });
    const states = new Map<string, SegmentState>();
    for (const e of events) {
      if (e.metadata.workspaceId !== workspaceId) continue;
      const id = String(e.data.segmentId);
      states.set(id, evolveSegment(states.get(id) ?? initialSegmentState(id), e));
    }
    const totals = new Map(
      (await this.safeFind<SegmentTotalDoc>(SEGMENT_TOTALS, { workspaceId })).map((d) => [d.doc.segmentId, d.doc.members]),
    );
    return [...states.values()]
      .filter((s) => s.version > 0 && !s.removed)
      .map((s) => ({ ...summary(s), members: totals.get(s.segmentId) ?? 0 }))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  async get(workspaceId: string, segmentId: string): Promise<SegmentDetail> {
    const { state, events } = await this.load(workspaceId, segmentId);
    if (state.version === 0) throw notFound(segmentId);
    const definition = latestSegmentDefinition(state)!;
    return {
      ...summary(state),
      members: await this.total(workspaceId, segmentId),
      ...(definition.description !== undefined && { description: definition.description }),
      definition,
      versions: events
        .filter((e) => e.type === 'SegmentDefined')
        .map((e) => ({ version: Number(e.data.version), definedAt: e.metadata.recordedAt, definedBy: e.metadata.source })),
      ...(state.backfill && { backfill: state.backfill }),
    };
  }

  async members(workspaceId: string, segmentId: string, limit: number, cursor?: string): Promise<SegmentMembersPage> {
    await this.mustExist(workspaceId, segmentId);
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    const docs = await this.safeFind<SegmentMemberDoc>(
      SEGMENT_MEMBERS,
      { workspaceId, segmentId, member: 1 },
      { orderBy: ['customerId'], limit: limit + 1, ...(after !== undefined && { after: { field: 'customerId', value: after } }) },
    );
    const page = docs.slice(0, limit);
    return {
      segmentId,
      total: await this.total(workspaceId, segmentId),
      members: page.map((d) => ({ customerId: d.doc.customerId, enteredAt: d.doc.enteredAt, version: d.doc.version })),
      ...(docs.length > limit && { next: encodeCursor(page[page.length - 1].doc.customerId) }),
    };
  }

  /** Entered, left and members per UTC day from `from` to `to` (inclusive); a day without change carries the members on. */
  async counts(workspaceId: string, segmentId: string, from: string, to: string): Promise<SegmentCountsAnswer> {
    await this.mustExist(workspaceId, segmentId);
    const docs = (await this.safeFind<SegmentCountDoc>(SEGMENT_COUNTS, { workspaceId, segmentId }, { orderBy: ['day'] })).map((d) => d.doc);
    const byDay = new Map(docs.map((d) => [d.day, d]));
    let members = 0;
    for (const d of docs) if (d.day < from) members = d.members;
    const days: SegmentCountsAnswer['days'] = [];
    for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY_MS) {
      const day = new Date(t).toISOString().slice(0, 10);
      const d = byDay.get(day);
      if (d) members = d.members;
      days.push({ day, entered: d?.entered ?? 0, left: d?.left ?? 0, members });
    }
    return { segmentId, from, to, days };
  }

  /** The write path: load the stream, decide, append with the stream's revision as expected; without If-Match, retried on a race. */
  async decideAndAppend(principal: Principal, segmentId: string, command: SegmentCommand, ifMatch?: number): Promise<SegmentChange> {
    for (let attempt = 1; ; attempt++) {
      const { state } = await this.load(principal.workspaceId, segmentId);
      if (ifMatch !== undefined && ifMatch !== state.version)
        throw new ConflictException(`If-Match: segment "${segmentId}" is at version ${state.version}, not ${ifMatch}`);
      let events;
      try {
        events = decideSegment(command, state, { workspaceId: principal.workspaceId, now: new Date(), by: definedBy(principal) });
      } catch (error) {
        if (error instanceof InvalidSegmentError) throw invalid(error.errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)));
        if (error instanceof SegmentCommandError) throw error.code === 'not_found' ? notFound(segmentId) : invalid([error.message]);
        throw error;
      }
      if (events.length === 0) return { ...summary(state), changed: false };
      const after = events.reduce(evolveSegment, state);
      const written = await this.store
        .appendToStream(segmentStreamId(principal.workspaceId, segmentId), events, {
          expectedRevision: state.revision === 0 ? 'no_stream' : BigInt(state.revision - 1),
        })
        .then(
          (r) => r.written === events.length,
          (error: unknown) => {
            if (error instanceof WrongExpectedRevisionError) return false;
            throw error;
          },
        );
      if (written) return { ...summary(after), changed: true };
      if (ifMatch !== undefined || attempt >= RETRIES)
        throw new ConflictException(`segment "${segmentId}" was changed concurrently; read it again and retry`);
    }
  }

  private async mustExist(workspaceId: string, segmentId: string): Promise<void> {
    const { state } = await this.load(workspaceId, segmentId);
    if (state.version === 0) throw notFound(segmentId);
  }

  private async total(workspaceId: string, segmentId: string): Promise<number> {
    try {
      return (await this.readModels.get<SegmentTotalDoc>(SEGMENT_TOTALS, segmentTotalDocId(workspaceId, segmentId)))?.doc.members ?? 0;
    } catch (error) {
      if (missingCollection(error)) return 0;
      throw error;
    }
  }

  /** A find on a collection that may not exist yet (nothing projected into it): none. */
  private async safeFind<T>(
    collection: string,
    where: Record<string, string | number>,
    options?: Parameters<ReadModelStore['find']>[2],
  ): Promise<Array<StoredDoc<T>>> {
    try {
      return await this.readModels.find<T>(collection, where, options);
    } catch (error) {
      if (missingCollection(error)) return [];
      throw error;
    }
  }

  private async load(workspaceId: string, segmentId: string): Promise<{ state: SegmentState; events: RecordedEvent[] }> {
    const events = await this.store.readStream(segmentStreamId(workspaceId, segmentId));
    return { state: events.reduce(evolveSegment, initialSegmentState(segmentId)), events };
  }
}

const missingCollection = (error: unknown) => /no such table/i.test((error as Error)?.message ?? '');

function summary(state: SegmentState): Omit<SegmentSummary, 'members'> {
  return { id: state.segmentId, name: state.definitions[state.version]?.name ?? '', version: state.version, removed: state.removed };
}

export const encodeCursor = (customerId: string) => Buffer.from(customerId, 'utf8').toString('base64url');
function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (id === '' || encodeCursor(id) !== cursor)
    throw new BadRequestException(`cursor: not a cursor this endpoint gave, got ${JSON.stringify(cursor)}`);
  return id;
}

function invalid(errors: string[]): BadRequestException {
  return new BadRequestException({ statusCode: 400, error: 'Bad Request', message: `invalid segment: ${errors.join('; ')}`, errors });
}

function notFound(segmentId: string): NotFoundException {
  return new NotFoundException(`segment "${segmentId}" not found`);
}
