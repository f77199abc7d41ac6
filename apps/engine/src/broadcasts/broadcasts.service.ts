import { randomUUID } from 'node:crypto';
import { BadRequestException, ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import {
  BroadcastCommandError,
  broadcastStreamId,
  decideBroadcast,
  foldBroadcast,
  lastDueAt,
  segmentStreamId,
  validateBroadcast,
  type BroadcastCommand,
  type BroadcastCounts,
  type BroadcastState,
  type EventDataByType,
} from '@journey/domain';
import { EVENT_STORE, WrongExpectedRevisionError, type EventStore } from '@journey/event-store';
import { TRIGGER_VALIDATION } from '@journey/messaging';
import { CLOCK, type Clock } from '@journey/reactors';
import { BROADCASTS, BROADCAST_MESSAGES, READ_MODEL_STORE, type BroadcastDoc, type ReadModelStore } from '@journey/read-models';
import type { Principal } from '../auth/key-store';
import { missingTable } from './segment-members';

export interface BroadcastAnalytics {
  /** Members reached: a decision, or a local-time timer set. */
  targeted: number;
  /** Local-time timers not yet due. */
  pending: number;
  scheduled: number;
  suppressed: Record<string, number>;
  sent: number;
  delivered: number;
  failed: number;
  opened: number;
  clicked: number;
}

export interface BroadcastView {
  id: string;
  segmentId: string;
  status: 'scheduled' | 'sending' | 'completed' | 'cancelled';
  send: EventDataByType['BroadcastScheduled']['send'];
  at?: string;
  localTime?: string;
  guards?: EventDataByType['BroadcastScheduled']['guards'];
  /** When the fan-out over the members starts (for `localTime`: when that time comes in the first zone). */
  startAt: string;
  scheduledAt?: string;
  by?: string;
  completedAt?: string;
  cancelledAt?: string;
  /** What the fan-out decided (from the broadcast's stream): exact once it completed. */
  fanOut: BroadcastCounts;
}

export interface BroadcastDetail extends BroadcastView {
  /** From the `broadcast-analytics` read model (eventually consistent: a few ms behind the log). */
  analytics: BroadcastAnalytics;
}

const by = (principal: Principal) => `http:${principal.role}${principal.memberId !== undefined ? `:${principal.memberId}` : ''}`;

/** Attempts of a cancel racing the fan-out's progress. */
const RETRIES = 5;

const invalid = (errors: string[]) =>
  new BadRequestException({ statusCode: 400, error: 'Bad Request', message: `invalid broadcast: ${errors.join('; ')}`, errors });

/**
 * Broadcasts over HTTP: every write goes through the broadcast decider onto `broadcast-<ws>-<id>` (expected revision:
 * a concurrent change is a 409); reads fold that stream (status, the fan-out's counts) and count the
 * `broadcast-analytics` read model (what came of the messages).
 */
@Injectable()
export class BroadcastsService {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async create(principal: Principal, body: unknown): Promise<BroadcastDetail> {
    const now = this.clock.now();
    const checked = validateBroadcast(body, TRIGGER_VALIDATION, now.getTime());
    if (!checked.ok) throw invalid(checked.errors);
    const { definition } = checked;
    const segment = await this.segmentState(principal.workspaceId, definition.segmentId);
    if (segment !== 'defined')
      throw invalid([
        `segmentId: ${segment === 'removed' ? 'segment was removed' : 'unknown segment'} ${JSON.stringify(definition.segmentId)}`,
      ]);
    const broadcastId = checked.broadcastId ?? randomUUID();
    const state = await this.load(principal.workspaceId, broadcastId);
    await this.decide(principal, state, {
      type: 'ScheduleBroadcast',
      definition: { ...definition, broadcastId },
      startAt: checked.startAt,
    });
    return this.get(principal.workspaceId, broadcastId);
  }

  /** A fan-out in progress appends its progress meanwhile: a cancel that lost that race decides again (a few times). */
  async cancel(principal: Principal, broadcastId: string): Promise<BroadcastDetail> {
    for (let attempt = 1; ; attempt++) {
      const state = await this.load(principal.workspaceId, broadcastId);
      if (await this.decide(principal, state, { type: 'CancelBroadcast' }, attempt < RETRIES)) break;
    }
    return this.get(principal.workspaceId, broadcastId);
  }

  async list(workspaceId: string): Promise<BroadcastDoc[]> {
    try {
      const docs = await this.readModels.find<BroadcastDoc>(BROADCASTS, { workspaceId });
      return docs
        .map((d) => ({ ...d.doc, status: this.status(d.doc.status, { localTime: d.doc.localTime || undefined, startAt: d.doc.startAt }) }))
        .sort((a, b) => b.scheduledAt.localeCompare(a.scheduledAt) || a.broadcastId.localeCompare(b.broadcastId));
    } catch (error) {
      if (missingTable(error)) return [];
      throw error;
    }
  }

  async get(workspaceId: string, broadcastId: string): Promise<BroadcastDetail> {
    const state = await this.load(workspaceId, broadcastId);
    if (!state.definition || !state.status) throw new NotFoundException(`broadcast "${broadcastId}" not found`);
    const d = state.definition;
    return {
      id: broadcastId,
      segmentId: d.segmentId,
      status: this.status(state.status, d),
      send: d.send,
      ...(d.at !== undefined && { at: d.at }),
      ...(d.localTime !== undefined && { localTime: d.localTime }),
      ...(d.guards !== undefined && { guards: d.guards }),
      startAt: d.startAt,
      ...(state.scheduledAt !== undefined && { scheduledAt: state.scheduledAt }),
      ...(d.by !== undefined && { by: d.by }),
      ...(state.completedAt !== undefined && { completedAt: state.completedAt }),
      ...(state.cancelledAt !== undefined && { cancelledAt: state.cancelledAt }),
      fanOut: state.counts,
      analytics: await this.analytics(workspaceId, broadcastId),
    };
  }

  /**
   * A local-time broadcast whose fan-out completed is still `sending` until its time has come in the last zone (its
   * members' timers fire until then).
   */
  private status(status: BroadcastView['status'], d: { localTime?: string; startAt: string }): BroadcastView['status'] {
    return status === 'completed' && d.localTime && this.clock.now().getTime() < lastDueAt(d) ? 'sending' : status;
  }

  private async analytics(workspaceId: string, broadcastId: string): Promise<BroadcastAnalytics> {
    const where = { workspaceId, broadcastId };
    const ones = async (field: string) => {
      const counts = await this.readModels.countBy(BROADCAST_MESSAGES, field, where);
      return counts.find((c) => c.value === 1 || c.value === '1')?.count ?? 0;
    };
    try {
      const [statuses, reasons, scheduled, sent, delivered, failed, opened, clicked] = await Promise.all([
        this.readModels.countBy(BROADCAST_MESSAGES, 'status', where),
        this.readModels.countBy(BROADCAST_MESSAGES, 'suppressedReason', where),
        ones('scheduled'),
        ones('sent'),
        ones('delivered'),
        ones('failed'),
        ones('opened'),
        ones('clicked'),
      ]);
      const suppressed = Object.fromEntries(reasons.filter((r) => r.value).map((r) => [String(r.value), r.count]));
      return {
        targeted: statuses.reduce((n, s) => n + s.count, 0),
        pending: statuses.find((s) => s.value === 'pending')?.count ?? 0,
        scheduled,
        suppressed,
        sent,
        delivered,
        failed,
        opened,
        clicked,
      };
    } catch (error) {
      if (!missingTable(error)) throw error;
      return { targeted: 0, pending: 0, scheduled: 0, suppressed: {}, sent: 0, delivered: 0, failed: 0, opened: 0, clicked: 0 };
    }
  }

  private async load(workspaceId: string, broadcastId: string): Promise<BroadcastState> {
    return foldBroadcast(broadcastId, await this.store.readStream(broadcastStreamId(workspaceId, broadcastId)));
  }

  /** The segment as its stream has it (SegmentDefined / SegmentRemoved on `segment-<ws>-<id>`). */
  private async segmentState(workspaceId: string, segmentId: string): Promise<'defined' | 'removed' | 'unknown'> {
    let state: 'defined' | 'removed' | 'unknown' = 'unknown';
    for (const e of await this.store.readStream(segmentStreamId(workspaceId, segmentId))) {
      if (e.metadata.workspaceId !== workspaceId) continue;
      if (e.type === 'SegmentDefined') state = 'defined';
      if (e.type === 'SegmentRemoved') state = 'removed';
    }
    return state;
  }

  /** Decides and appends; `retry`: a lost race answers false (decide again) instead of a 409. */
  private async decide(principal: Principal, state: BroadcastState, command: BroadcastCommand, retry = false): Promise<boolean> {
    let events;
    try {
      events = decideBroadcast(command, state, { workspaceId: principal.workspaceId, now: this.clock.now(), by: by(principal) });
    } catch (error) {
      if (!(error instanceof BroadcastCommandError)) throw error;
      if (error.code === 'exists') throw new ConflictException(error.message);
      if (error.code === 'not_found') throw new NotFoundException(error.message);
      throw new ConflictException(error.message);
    }
    try {
      await this.store.appendToStream(broadcastStreamId(principal.workspaceId, state.broadcastId), events, {
        expectedRevision: state.revision === 0 ? 'no_stream' : BigInt(state.revision - 1),
      });
      return true;
    } catch (error) {
      if (error instanceof WrongExpectedRevisionError && retry) return false;
      if (error instanceof WrongExpectedRevisionError)
        throw new ConflictException(
          `broadcast "${state.broadcastId}" was changed concurrently (its fan-out moved on); read it again and retry`,
        );
      throw error;
    }
  }
}
