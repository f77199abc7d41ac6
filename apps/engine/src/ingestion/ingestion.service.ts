import { BadRequestException, Inject, Injectable, OnModuleDestroy, ServiceUnavailableException } from '@nestjs/common';
import { customerStreamId, routedEvent, type JourneyEvent } from '@journey/domain';
import { IdentityDirectory } from '@journey/reactors';
import type { FieldError, SegmentIngestContext } from '@journey/integration';
import { EVENT_STORE, isDiskFull, type AppendRequest, type EventStore } from '@journey/event-store';
import { HealthChecks } from '../operations/health';
import { Metrics } from '../operations/metrics';

/** Ingestion over HTTP records `metadata.source: http`. */
export const SOURCE = 'http';
const MAX_LISTED_ERRORS = 10;

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
   * Identity merge (#12), before the events are stored: an alias (IdentitiesMerged) is decided and claimed (see
   * `IdentityDirectory.merge`; the merge reactor then writes the IdentitiesMerged and the copies on the user's stream),
   * or refused (`refused`: by index, why); an identify naming a userId and a known, unmerged anonymousId claims that
   * merge too; every other event under a merged id goes to the customer it was merged into (`metadata.routedFrom`).
   */
  async route(workspaceId: string, events: JourneyEvent[]): Promise<{ events: JourneyEvent[]; refused: Map<number, string> }> {
    const out: JourneyEvent[] = [];
    const refused = new Map<number, string>();
    for (const [index, event] of events.entries()) {
      const at = {
        occurredAt: event.metadata.occurredAt,
        recordedAt: event.metadata.recordedAt,
        correlationId: event.metadata.correlationId,
      };
      if (event.type === 'IdentitiesMerged') {
        const decision = await this.identities.merge(workspaceId, String(event.data.previousId), String(event.data.userId), at);
        if (decision.kind === 'refused') refused.set(index, decision.message);
        continue;
      }
      const customerId = event.metadata.customerId;
      const target = await this.identities.resolve(workspaceId, customerId);
      out.push(target === customerId ? event : routedEvent(event, target));
      const anonymousId = event.type === 'CustomerIdentified' ? event.data.anonymousId : undefined;
      if (typeof anonymousId === 'string' && event.data.userId !== undefined && anonymousId !== customerId) {
        const role = await this.identities.role(workspaceId, anonymousId);
        if (role.kind === 'none' && (await this.identities.known(workspaceId, anonymousId)))
          await this.identities.merge(workspaceId, anonymousId, target, at); // refused (a chain): the identify alone is recorded
      }
    }
    return { events: out, refused };
  }

  /** The mapping context of a call received now. */
  context(workspaceId: string): SegmentIngestContext {
    return { workspaceId, receivedAt: new Date().toISOString(), source: SOURCE };
  }

  /** Stores the events of a request (`partial`: some calls of its batch were rejected), counting the request's outcome. */
  async accept(workspaceId: string, events: JourneyEvent[], outcome: 'accepted' | 'partial'): Promise<void> {
    try {
      await this.record(workspaceId, events, SOURCE);
    } catch (error) {
      this.metrics.ingestRequests.inc({ outcome: 'failed' });
      throw error;
    }
    this.metrics.ingestRequests.inc({ outcome });
  }

  /** A 400 for a request nothing of which is stored, counted as rejected. */
  reject(message: string, details: { errors?: FieldError[]; rejected?: unknown[] }): BadRequestException {
    this.metrics.ingestRequests.inc({ outcome: 'rejected' });
    return new BadRequestException({ statusCode: 400, error: 'Bad Request', message, ...details });
  }

  /** Stores the events (duplicates by id are skipped) and returns how many were new. */
  async record(workspaceId: string, events: JourneyEvent[], source: string): Promise<number> {
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
    const append = this.store.appendMany(requests);
    this.inFlight.add(append);
    try {
      const results = await append;
      this.health.writeSucceeded();
      const written = results.reduce((sum, r) => sum + r.written, 0);
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
