import { randomUUID } from 'node:crypto';
import { deadLetterRetryRequested, deadLetterStreamId, foldDeadLetters, type DeadLetter } from '@journey/domain';
import type { EventStore } from '../event-store.port';

/** The workspace's dead letters (see dead-letters.ts in the domain), oldest first. */
export async function listDeadLetters(store: EventStore, workspaceId: string): Promise<DeadLetter[]> {
  return foldDeadLetters(await store.readStream(deadLetterStreamId(workspaceId)));
}

/** What a retry request came to: requested, or refused for a letter that is not there or already resolved. */
export type DeadLetterRetry = { outcome: 'requested' | 'resolved'; letter: DeadLetter } | { outcome: 'not-found' };

/**
 * Asks the subscriber that quarantined a dead letter to run its event again: a `DeadLetterRetryRequested` in the log,
 * which the subscriber picks up wherever it runs. Answers the dead letter as it is now (status `retrying`); a letter
 * already resolved is left as it is (`resolved`), and `not-found` when the workspace has no dead letter with this id.
 */
export async function requestDeadLetterRetry(
  store: EventStore,
  workspaceId: string,
  id: string,
  by: string,
  now = new Date(),
): Promise<DeadLetterRetry> {
  const letter = (await listDeadLetters(store, workspaceId)).find((l) => l.id === id);
  if (!letter) return { outcome: 'not-found' };
  if (letter.status === 'resolved') return { outcome: 'resolved', letter };
  const requestId = randomUUID();
  await store.appendToStream(deadLetterStreamId(workspaceId), [deadLetterRetryRequested(letter, by, requestId, now)]);
  return { outcome: 'requested', letter: { ...letter, status: 'retrying', retries: letter.retries + 1, retryRequestId: requestId } };
}
