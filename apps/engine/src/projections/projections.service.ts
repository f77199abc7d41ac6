import { Inject, Injectable, Logger, NotFoundException, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { PROJECTIONS, ProjectionRunner, READ_MODEL_STORE, type ReadModelStore, type RebuildReport } from '@journey/read-models';
import { ENGINE_CONFIG, type EngineConfig } from '../config';
import { HealthChecks } from '../operations/health';
import { Metrics } from '../operations/metrics';
import { SubscriberFailures } from '../operations/subscriber-failures';

export interface ProjectionStatus {
  name: string;
  running: boolean;
  position: string;
  head: string;
  lag: number;
  lastError?: string;
}

/**
 * Runs every projection (when this process has the `projector` role) and offers status, catch-up waiting and rebuild.
 * One runner serves them all: one subscription to the log and one read-model transaction per batch for every projection.
 * The read-model collections are created at start-up whatever the roles, so an `api`-only process can answer queries.
 */
@Injectable()
export class ProjectionsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('projections');
  private readonly runner: ProjectionRunner;

  constructor(
    @Inject(ENGINE_CONFIG) private readonly config: EngineConfig,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_MODEL_STORE) private readonly store: ReadModelStore,
    private readonly metrics: Metrics,
    health: HealthChecks,
    failures: SubscriberFailures,
  ) {
    this.runner = new ProjectionRunner(PROJECTIONS, events, store, {
      onProgress: (name, position) => this.record(name, position),
      onError: (error) => this.logger.error(`projections failed, retrying: ${error.message}`),
      failures: failures.settings,
    });
    if (config.roles.has('projector')) {
      health.register('projections', async () => {
        const failed = this.runner.status().filter((s) => s.lastError);
        if (failed.length) throw new Error(failed.map((s) => `${s.name}: ${s.lastError}`).join('; '));
      });
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const p of PROJECTIONS) await this.store.prepare(p);
    if (this.config.roles.has('projector')) await this.runner.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.runner.stop();
  }

  async status(): Promise<ProjectionStatus[]> {
    const head = await this.events.headPosition();
    const here = this.config.roles.has('projector');
    // Projected in the worker thread (or in another process): positions from the stored checkpoints.
    const statuses = here
      ? this.runner.status()
      : await Promise.all(
          PROJECTIONS.map(async (p) => ({
            name: p.name,
            running: this.config.workerRoles.has('projector'),
            position: await this.store.checkpoint(p.name),
          })),
        );
    return statuses.map((s) => {
      const lag = Number(head > s.position ? head - s.position : 0n);
      if (here) this.metrics.projectionLag.set({ projection: s.name }, lag);
      return { ...s, position: s.position.toString(), head: head.toString(), lag };
    });
  }

  /** Resolves when every running projection includes `position` (default: the current head of the log). */
  async waitForCatchUp(position?: bigint, timeoutMs = 10_000): Promise<void> {
    if (!this.runner.status()[0]?.running) return;
    await this.runner.waitFor(position ?? (await this.events.headPosition()), timeoutMs);
  }

  async rebuild(name: string): Promise<RebuildReport> {
    if (!PROJECTIONS.some((p) => p.name === name))
      throw new NotFoundException(`unknown projection "${name}" (known: ${PROJECTIONS.map((p) => p.name).join(', ')})`);
    const report = await this.runner.rebuild({ projection: name });
    this.logger.log(`rebuilt ${name} to position ${report.position} in ${report.durationMs} ms (identical to live: ${report.identical})`);
    return report;
  }

  private record(name: string, position: bigint): void {
    this.metrics.projectionPosition.set({ projection: name }, Number(position));
    this.events.headPosition().then(
      (head) => this.metrics.projectionLag.set({ projection: name }, Number(head > position ? head - position : 0n)),
      () => undefined,
    );
  }
}
