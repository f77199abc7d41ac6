import { BACKWARDS, END, StreamNotFoundError, jsonEvent, type EventStoreDBClient } from '@eventstore/db-client';
import type { CheckpointStore } from '../checkpoint.port';

/** Type of checkpoint events: `$`-prefixed, so no subscriber of the engine ever sees them (mapping.ts isSystemEvent). */
export const CHECKPOINT_EVENT_TYPE = '$JourneyCheckpoint';
/** Only the latest checkpoint matters; ESDB may scavenge the rest. */
const KEEP_CHECKPOINTS = 5;

/** `$`-prefixed like ESDB's own persistent-subscription checkpoints: a system stream, invisible to the engine's subscribers. */
export function checkpointStreamId(name: string): string {
  return `$journey-checkpoint-${name}`;
}

/** A checkpoint event's data back to a position; undefined for anything that is not one. */
export function positionFromCheckpoint(data: unknown): bigint | undefined {
  const position = (data as { position?: unknown } | null)?.position;
  return typeof position === 'string' && /^\d+$/.test(position) ? BigInt(position) : undefined;
}

/**
 * Checkpoints in EventStoreDB, next to the events the subscribers append (reactor effects, deliveries), so worker
 * processes keep no state on local disk and can move between machines. This matters with this adapter: its
 * idempotency is windowed (README.md), so a subscriber that lost its checkpoint and replayed old history could append
 * an old effect again unnoticed. One stream per checkpoint name; `set` appends the position, `get` reads the last one.
 */
export class EventStoreDbCheckpointStore implements CheckpointStore {
  constructor(private readonly client: EventStoreDBClient) {}

  async get(name: string): Promise<bigint | undefined> {
    try {
      for await (const resolved of this.client.readStream(checkpointStreamId(name), {
        direction: BACKWARDS,
        fromRevision: END,
        maxCount: 1,
      })) {
        return positionFromCheckpoint(resolved.event?.data);
      }
      return undefined;
    } catch (error) {
      if (error instanceof StreamNotFoundError) return undefined;
      throw error;
    }
  }

  async set(name: string, position: bigint): Promise<void> {
    const stream = checkpointStreamId(name);
    const result = await this.client.appendToStream(
      stream,
      jsonEvent({ type: CHECKPOINT_EVENT_TYPE, data: { position: position.toString() } }),
    );
    if (result.nextExpectedRevision === 0n) await this.client.setStreamMetadata(stream, { maxCount: KEEP_CHECKPOINTS });
  }
}
