import { ENGINE_UPCASTERS } from './engine-upcasters';
import type { EventMetadata, JourneyEvent } from './events';

/** The event another one is an effect of (any event is one): its id is the causation, its correlation is passed on. */
export interface Cause {
  id: string;
  metadata: { correlationId?: string };
}

export interface EnvelopeFields<T extends string, D> {
  id: string;
  type: T;
  data: D;
  workspaceId: string;
  customerId: string;
  occurredAt: string;
  recordedAt: string;
  /** Who writes it: `http`, `kafka`, `reactor`, `dispatcher`, `admin`, ... */
  source: string;
  /** An effect's cause: `causationId` is its id, `correlationId` its correlation (or its id when it has none). */
  cause?: Cause;
  /** The correlation of an event without a cause (an ingested event's messageId). */
  correlationId?: string;
}

/**
 * Every event the engine writes is built here: the metadata from the fields, causation and correlation from the cause,
 * and the schema version the engine's upcasters name current for the type (so an upcaster never runs on an event
 * written in the current shape). Pure; one event and one metadata object, as a literal would be.
 */
export function envelope<T extends string, D>(f: EnvelopeFields<T, D>): JourneyEvent<T, D> {
  const schemaVersion = ENGINE_UPCASTERS.currentVersion(f.type);
  const { workspaceId, customerId, occurredAt, recordedAt, source, cause } = f;
  const metadata: EventMetadata = cause
    ? {
        workspaceId,
        customerId,
        occurredAt,
        recordedAt,
        causationId: cause.id,
        correlationId: cause.metadata.correlationId ?? cause.id,
        source,
        schemaVersion,
      }
    : f.correlationId !== undefined
      ? { workspaceId, customerId, occurredAt, recordedAt, correlationId: f.correlationId, source, schemaVersion }
      : { workspaceId, customerId, occurredAt, recordedAt, source, schemaVersion };
  return { id: f.id, type: f.type, data: f.data, metadata };
}
