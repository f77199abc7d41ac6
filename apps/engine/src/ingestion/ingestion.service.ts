import { BadRequestException, ConflictException, Inject, Injectable, OnModuleDestroy, ServiceUnavailableException } from '@nestjs/common';
import { customerStreamId, deterministicId, mergedEvent, routedEvent, type IdentityRole, type JourneyEvent } from '@journey/domain';
import { IdentityDirectory } from '@journey/reactors';
import type { FieldError, SegmentIngestContext } from '@journey/integration';
import { EVENT_STORE, WrongExpectedRevisionError, isDiskFull, type AppendRequest, type EventStore } from '@journey/event-store';
import { HealthChecks } from '../operations/health';
import { Metrics } from '../operations/metrics';

/** Ingestion over HTTP records `metadata.source: http`. */
export const SOURCE = 'http';
const MAX_LISTED_ERRORS = 10;
/** Times a request whose merge claim met a concurrent one is decided again before a 409. */
const MERGE_ATTEMPTS = 3;

/**
 * Writes ingested events: one `appendMany` per request, one stream per customer (the store's group commit merges
 * concurrent requests into one transaction). Resolves only once the events are durable.
 */
@Injectable()
export class IngestionService implements OnModuleDestroy {
  private readonly inFlight = new Set<Promise<unknown>>();
  private draining = false;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly metrics: Metrics,
    private readonly health: HealthChecks,
    private readonly identities: IdentityDirectory,
  ) {}

  /**
   * Stores a request's events (see `accept`) after identity merge (#12) routed them (`route`): `settle` is told which
   * events were refused (by index, why) and answers the request's outcome, or throws its 400. A claim that conflicts
   * with a concurrent merge (nothing of the request is stored with SQLite) is decided again.
   */
  async submit(
    workspaceId: string,
    events: JourneyEvent[],
    settle: (refused: Map<number, string>) => 'accepted' | 'partial',
  ): Promise<Map<number, string>> {
    for (let attempt = 1; ; attempt++) {
      const routed = await this.route(workspaceId, events, attempt > 1);
      const outcome = settle(routed.refused);
      try {
        await this.accept(workspaceId, routed.events, outcome, routed.claims);
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        if (attempt < MERGE_ATTEMPTS) continue;
        this.metrics.ingestRequests.inc({ outcome: 'failed' });
        throw new ConflictException(`concurrent merges of the same ids (${error.streamId}): retry the request`);
      }
      this.identities.committed(workspaceId, routed.planned);
      return routed.refused;
    }
  }

  /**
   * Identity merge (#12), before the events are stored: an alias (IdentitiesMerged) is decided and its claim planned
   * (`IdentityDirectory.plan`; the merge reactor then copies the history to the user), or refused (`refused`: by
   * index, why); an identify naming a userId and a known, unmerged anonymousId plans that merge too; every other event
   * under a merged id goes to the customer it was merged into (`metadata.routedFrom`). `fresh`: read every role again.
   */
  async route(
    workspaceId: string,
    events: JourneyEvent[],
    fresh = false,
  ): Promise<{ events: JourneyEvent[]; claims: AppendRequest[]; planned: Map<string, IdentityRole>; refused: Map<number, string> }> {
    const out: JourneyEvent[] = [];
    const claims: AppendRequest[] = [];
    const planned = new Map<string, IdentityRole>();
    const refused = new Map<number, string>();
    const role = async (id: string) =>
      planned.get(id) ??
      (fresh ? undefined : this.identities.peek(workspaceId, id)) ??
      (await this.identities.role(workspaceId, id, fresh));
    /** Ids named by the request's earlier calls: known, though not stored yet (an SDK flushes page views and the identify together). */
    const named = new Set<string>();
    for (const [index, event] of events.entries()) {
      const m = event.metadata;
      const at = { occurredAt: m.occurredAt, recordedAt: m.recordedAt, correlationId: m.correlationId, source: m.source };
      if (event.type === 'IdentitiesMerged') {
        const previousId = String(event.data.previousId);
        const plan = await this.identities.plan(
          workspaceId,
          previousId,
          String(event.data.userId),
          { ...at, eventId: event.id },
          { fresh, planned },
        );
        if (plan.kind === 'refused') refused.set(index, plan.message);
        // the same alias again (noop): nothing new; the first one's IdentitiesMerged is the merge's too
        if (plan.claim) out.push(mergedEvent(plan.claim));
        claims.push(...plan.appends);
        continue;
      }
      const customerId = m.customerId;
      named.add(customerId);
      const customer = await role(customerId);
      const target = customer.kind === 'alias' ? customer.userId : customerId;
      out.push(target === customerId ? event : routedEvent(event, target));
      const anonymousId = event.type === 'CustomerIdentified' ? event.data.anonymousId : undefined;
      if (typeof anonymousId === 'string' && event.data.userId !== undefined && anonymousId !== customerId) {
        const known = named.has(anonymousId) || (await this.identities.known(workspaceId, anonymousId));
        if ((await role(anonymousId)).kind === 'none' && known) {
          const eventId = deterministicId('identify-merge', workspaceId, anonymousId, target);
          // refused (a chain): the identify alone is recorded, its anonymousId as data
          const plan = await this.identities.plan(workspaceId, anonymousId, target, { ...at, eventId }, { fresh, planned });
          if (plan.claim) out.push(mergedEvent(plan.claim));
          claims.push(...plan.appends);
        }
      }
    }
    return { events: out, claims, planned, refused };
  }

  /** The mapping context of a call received now. */
  context(workspaceId: string): SegmentIngestContext {
    return { workspaceId, receivedAt: new Date().toISOString(), source: SOURCE };
  }

  /** Stores the events of a request (`partial`: some calls of its batch were rejected), counting the request's outcome. */
  async accept(workspaceId: string, events: JourneyEvent[], outcome: 'accepted' | 'partial', claims: AppendRequest[] = []): Promise<void> {
    try {
      await this.record(workspaceId, events, SOURCE, claims);
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) this.metrics.ingestRequests.inc({ outcome: 'failed' });
      throw error;
    }
    this.metrics.ingestRequests.inc({ outcome });
  }

  /** A 400 for a request nothing of which is stored, counted as rejected. */
  reject(message: string, details: { errors?: FieldError[]; rejected?: unknown[] }): BadRequestException {
    this.metrics.ingestRequests.inc({ outcome: 'rejected' });
    return new BadRequestException({ statusCode: 400, error: 'Bad Request', message, ...details });
  }

  /**
   * Stores the events (duplicates by id are skipped) and returns how many were new; `claims`: identity merge claims,
   * after the events (one transaction with SQLite: the merge reactor, woken by a claim, finds the call's events stored).
   */
  async record(workspaceId: string, events: JourneyEvent[], source: string, claims: AppendRequest[] = []): Promise<number> {
    if (this.draining) throw new ServiceUnavailableException('the engine is shutting down: retry the request');
    const streams = new Map<string, JourneyEvent[]>();
    for (const event of events) {
      const streamId = customerStreamId(workspaceId, event.metadata.customerId);
      const list = streams.get(streamId);
      if (list) list.push(event);
      else streams.set(streamId, [event]);
    }
    const requests: AppendRequest[] = [];
    for (const [streamId, list] of streams) requests.push({ streamId, events: list });
    requests.push(...claims);
    const append = this.store.appendMany(requests);
    this.inFlight.add(append);
    try {
      const results = await append;
      this.health.writeSucceeded();
      const written = results.slice(0, streams.size).reduce((sum, r) => sum + r.written, 0);
      this.metrics.ingestedEvents.inc({ workspace: workspaceId, source }, written);
      return written;
    } catch (error) {
      if (isDiskFull(error)) this.health.writeFailed(error as Error); // /health names the store
      throw error;
    } finally {
      this.inFlight.delete(append);
    }
  }

  /** Shutdown, before the HTTP server and the store close: refuse new writes (503, clients retry) and let pending ones finish. */
  async onModuleDestroy(): Promise<void> {
    this.draining = true;
    await Promise.allSettled([...this.inFlight]);
  }
}

/** At most MAX_LISTED_ERRORS messages, then how many more. */
export function summarise(messages: string[]): string {
  const more = messages.length - MAX_LISTED_ERRORS;
  return messages.slice(0, MAX_LISTED_ERRORS).join('; ') + (more > 0 ? `; and ${more} more` : '');
}
