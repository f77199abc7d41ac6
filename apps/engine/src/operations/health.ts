import { Injectable } from '@nestjs/common';

/** Readiness checks of each engine in use; modules register theirs at start-up. */
@Injectable()
export class HealthChecks {
  readonly checks = new Map<string, () => Promise<unknown>>();

  register(name: string, check: () => Promise<unknown>): void {
    this.checks.set(name, check);
  }
}
