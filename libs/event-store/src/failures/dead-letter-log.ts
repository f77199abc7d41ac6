import { randomUUID } from 'node:crypto';
import { deadLetterRetryRequested, deadLetterStreamId, foldDeadLetters, type DeadLetter } from '@journey/domain';
import type { EventStore } from '../event-store.port';

/** The workspace's dead letters (see dead-letters.ts in the domain), oldest first. */
export async function listDeadLetters(store: EventStore, workspaceId: string): Promise<DeadLetter[]> {
  return foldDeadLetters(await store.readStream(deadLetterStreamId(workspaceId)));
}

/**
 * Asks the subscriber that quarantined a dead letter to run its event again: a `DeadLetterRetryRequested` in the log,
 * which the subscriber picks up wherever it runs. Returns the dead letter as it is now (status `retrying`), or
 * undefined when the workspace has no dead letter with this id.
 */
export async function requestDeadLetterRetry(store: EventStore, workspaceId: string, id: string, by: string, now = new Date()): Promise<DeadLetter | undefined> {
  const letter = (await listDeadLetters(store, workspaceId)).find((l) => l.id === id);
  if (!letter) return undefined;
  const requestId = randomUUID();
  await store.appendToStream(deadLetterStreamId(workspaceId), [deadLetterRetryRequested(letter, by, requestId, now)]);
  return { ...letter, status: 'retrying', retries: letter.retries + 1, retryRequestId: requestId };
}
