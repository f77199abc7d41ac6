import { Inject, Injectable, Logger, NotFoundException, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { PROJECTIONS, ProjectionRunner, READ_MODEL_STORE, type ReadModelStore, type RebuildReport } from '@journey/read-models';
import { ENGINE_CONFIG, type EngineConfig } from '../config';
import { HealthChecks } from '../operations/health';
import { Metrics } from '../operations/metrics';

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
 * The read-model collections are created at start-up whatever the roles, so an `api`-only process can answer queries.
 */
@Injectable()
export class ProjectionsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('projections');
  private readonly runners: Map<string, ProjectionRunner>;

  constructor(
    @Inject(ENGINE_CONFIG) private readonly config: EngineConfig,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_MODEL_STORE) private readonly store: ReadModelStore,
    private readonly metrics: Metrics,
    health: HealthChecks,
  ) {
    this.runners = new Map(
      PROJECTIONS.map((p) => [
        p.name,
        new ProjectionRunner(p, events, store, {
          onProgress: (position) => this.record(p.name, position),
          onError: (error) => this.logger.error(`projection ${p.name} failed, retrying: ${error.message}`),
        }),
      ]),
    );
    if (config.roles.has('projector')) {
      health.register('projections', async () => {
        const failed = [...this.runners.values()].map((r) => r.status()).filter((s) => s.lastError);
        if (failed.length) throw new Error(failed.map((s) => `${s.name}: ${s.lastError}`).join('; '));
      });
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    for (const r of this.runners.values()) await this.store.prepare(r.projection);
    if (!this.config.roles.has('projector')) return;
    for (const r of this.runners.values()) await r.start();
  }

  async onModuleDestroy(): Promise<void> {
    for (const r of this.runners.values()) await r.stop();
  }

  async status(): Promise<ProjectionStatus[]> {
    const head = await this.events.headPosition();
    return [...this.runners.values()].map((r) => {
      const s = r.status();
      const lag = Number(head - s.position);
      this.metrics.projectionLag.set({ projection: s.name }, lag);
      return { ...s, position: s.position.toString(), head: head.toString(), lag };
    });
  }

  /** Resolves when every running projection includes `position` (default: the current head of the log). */
  async waitForCatchUp(position?: bigint, timeoutMs = 10_000): Promise<void> {
    const target = position ?? (await this.events.headPosition());
    await Promise.all([...this.runners.values()].filter((r) => r.status().running).map((r) => r.waitFor(target, timeoutMs)));
  }

  async rebuild(name: string): Promise<RebuildReport> {
    const runner = this.runners.get(name);
    if (!runner) throw new NotFoundException(`unknown projection "${name}" (known: ${[...this.runners.keys()].join(', ')})`);
    const report = await runner.rebuild();
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
