/** What the readers of event time need of an event's metadata. */
type Timed = { metadata: { occurredAt: string; recordedAt: string } };

/*
 * Event time, read in one place. Ingestion always stamps a valid `occurredAt` (the client's timestamp, or the arrival
 * time when it sent none), so the fallback only matters for events written by hand or imported: then
 * - `eventTime` (the customer profile, stage, timeline, analytics) falls back to `recordedAt`, NaN when neither is a date;
 * - `occurredTime` (the trigger engine: a time condition must not fire on a time the client never gave) is NaN.
 */

/** When the client says the event happened, in epoch ms; NaN when `occurredAt` is not a date. */
export function occurredTime(event: Timed): number {
  return Date.parse(event.metadata.occurredAt);
}

/** When the event happened, in epoch ms: `occurredAt`, else `recordedAt`, else NaN. */
export function eventTime(event: Timed): number {
  const at = Date.parse(event.metadata.occurredAt);
  return Number.isNaN(at) ? Date.parse(event.metadata.recordedAt) : at;
}
