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
  private readonly writeFailures = new Map<string, string>();

  register(name: string, check: () => Promise<unknown>): void {
    this.checks.set(name, async () => {
      await check();
      const failure = this.writeFailures.get(name);
      if (failure) throw new Error(failure);
    });
  }

  /** A write to the store checked by `name` failed (e.g. its disk is full): its check fails until `writeSucceeded`. */
  writeFailed(name: string, error: Error, at = new Date()): void {
    this.writeFailures.set(name, `writes fail since ${at.toISOString()}: ${error.message}`);
  }

  writeSucceeded(name: string): void {
    if (this.writeFailures.size > 0) this.writeFailures.delete(name);
  }
}
