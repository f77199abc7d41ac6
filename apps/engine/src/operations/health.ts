import { Injectable } from '@nestjs/common';
import type { EngineConfig } from '../config';
import { eventStoreEngine } from '../persistence.module';

/** The name of the event store's readiness check in /health: `eventStore:sqlite` or `eventStore:eventstoredb`. */
export const eventStoreCheck = (config: EngineConfig): string => `eventStore:${eventStoreEngine(config)}`;

/**
 * Readiness checks of each engine in use; modules register theirs at start-up. A store can answer its ping and still
 * refuse writes (a full disk: reads work): writers report such failures, and the store's check fails with the last one
 * until a write succeeds again.
 */
@Injectable()
export class HealthChecks {
  readonly checks = new Map<string, () => Promise<unknown>>();
  /** The event store's check, the one whose writes fail (see `writeFailed`). */
  private eventStore?: string;
  private writeFailure?: string;

  register(name: string, check: () => Promise<unknown>, options: { eventStore?: boolean } = {}): void {
    if (options.eventStore) this.eventStore = name;
    this.checks.set(name, async () => {
      await check();
      if (name === this.eventStore && this.writeFailure) throw new Error(this.writeFailure);
    });
  }

  /** A subscriber's check (a Processor, or anything with a `lastError`): it fails while the subscriber is failing. */
  registerSubscriber(name: string, subscriber: { readonly lastError?: Error }, describe = (error: Error) => error.message): void {
    this.register(name, async () => {
      const error = subscriber.lastError;
      if (error) throw new Error(describe(error));
    });
  }

  /** A write to the event store failed (e.g. its disk is full): its check fails until `writeSucceeded`. */
  writeFailed(error: Error, at = new Date()): void {
    this.writeFailure = `writes fail since ${at.toISOString()}: ${error.message}`;
  }

  writeSucceeded(): void {
    this.writeFailure = undefined;
  }
}
