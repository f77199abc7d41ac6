import { Global, Inject, Injectable, Logger, Module, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService } from '@nestjs/core';
import { Counter } from 'prom-client';
import { CHECKPOINT_STORE, EVENT_STORE, type CheckpointStore, type EventStore } from '@journey/event-store';
import {
  AssignmentReactor,
  CLOCK,
  REACTORS,
  ReactorRunner,
  SlaReactor,
  StageReactor,
  TimerScheduler,
  systemClock,
  type Clock,
  type Reactor,
  type WorkLoad,
} from '@journey/reactors';
import { READ_MODEL_STORE, type ReadModelStore } from '@journey/read-models';
import { ENGINE_CONFIG, type EngineConfig } from '../config';
import { HealthChecks } from '../operations/health';
import { ProjectionsModule } from '../projections/projections.module';
import { Metrics } from '../operations/metrics';
import { SubscriberFailures } from '../operations/subscriber-failures';
import { loadStagePolicy } from './stage-policy';

/**
 * The `reactor` role: one ReactorRunner per registered reactor and the TimerScheduler, for the customers of this
 * process's partition (JOURNEY_PARTITION_INDEX / JOURNEY_PARTITION_COUNT). Reactors are registered by any module with a
 * provider under the REACTORS token (see `REACTORS` in @journey/reactors); this module registers the StageReactor and
 * the conversation reactors (AssignmentReactor, SlaReactor).
 */
@Injectable()
export class ReactorWorkers implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('reactors');
  private readonly runners = new Map<string, ReactorRunner>();
  private scheduler?: TimerScheduler;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly health: HealthChecks,
    private readonly metrics: Metrics,
    private readonly failures: SubscriberFailures,
    @Inject(ENGINE_CONFIG) private readonly config: EngineConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CHECKPOINT_STORE) private readonly checkpoints: CheckpointStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.roles.has('reactor')) return;
    const { partition } = this.config;
    const appended = new Counter({
      name: 'journey_reactor_events_total',
      help: 'Events a reactor (or the timer scheduler) of this process appended: written, or found already stored (duplicate: a replay, or another process acted)',
      labelNames: ['reactor', 'outcome'],
      registers: [this.metrics.registry],
    });
    const count = (reactor: string) => (written: number, duplicates: number) => {
      appended.inc({ reactor, outcome: 'written' }, written);
      appended.inc({ reactor, outcome: 'duplicate' }, duplicates);
    };
    for (const reactor of this.registeredReactors()) {
      const runner = new ReactorRunner(reactor, {
        store: this.store,
        checkpoints: this.checkpoints,
        clock: this.clock,
        partition,
        logger: this.logger,
        onAppended: count(reactor.name),
        failures: this.failures.settings,
      });
      this.runners.set(reactor.name, runner);
      this.health.registerSubscriber(`reactor:${reactor.name}`, runner, (e) => `failing at position ${runner.position}: ${e.message}`);
      await runner.start();
    }
    const scheduler = new TimerScheduler({
      store: this.store,
      clock: this.clock,
      partition,
      logger: this.logger,
      onAppended: count('timers'),
      failures: this.failures.settings,
    });
    this.scheduler = scheduler;
    this.health.registerSubscriber('timers', scheduler);
    await scheduler.start();
  }

  /** Before the store closes (PersistenceModule closes it on application shutdown). */
  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
    await this.scheduler?.stop();
  }

  /** The runner of a reactor, e.g. to `waitFor` a position in tests (only in processes with the reactor role). */
  runner(name: string): ReactorRunner {
    const runner = this.runners.get(name);
    if (!runner) throw new Error(`no reactor "${name}" runs in this process (running: ${[...this.runners.keys()].join(', ') || 'none'})`);
    return runner;
  }

  /** Resolves once every reactor has handled the log up to `position` (default: the head now). */
  async waitFor(position?: bigint, timeoutMs?: number): Promise<void> {
    const target = position ?? (await this.store.headPosition());
    await Promise.all([...this.runners.values()].map((r) => r.waitFor(target, timeoutMs)));
  }

  private registeredReactors(): Reactor[] {
    const instances = this.discovery
      .getProviders()
      .filter((wrapper) => wrapper.token === REACTORS && wrapper.instance)
      .flatMap((wrapper) => [wrapper.instance as Reactor | Reactor[]].flat());
    const reactors = [...new Set(instances)];
    const names = reactors.map((r) => r.name);
    const duplicate = names.find((n, i) => names.indexOf(n) !== i);
    if (duplicate)
      throw new Error(`two reactors are registered under the name "${duplicate}": reactor names must be unique (they name checkpoints)`);
    return reactors;
  }
}

/**
 * Open items per member (the `work` read model), for the assignment reactor; none while the collection does not exist
 * yet (no conversation or task was ever projected).
 */
export const workLoad =
  (readModels: ReadModelStore): WorkLoad =>
  async (workspaceId) => {
    try {
      const counts = await readModels.countBy('work', 'assignee', { workspaceId, open: 1 });
      return new Map(counts.filter((c) => typeof c.value === 'string' && c.value !== '').map((c) => [c.value as string, c.count]));
    } catch (error) {
      if (/no such table/i.test((error as Error).message)) return new Map();
      throw error;
    }
  };

@Global()
@Module({
  imports: [DiscoveryModule, ProjectionsModule],
  providers: [
    { provide: CLOCK, useValue: systemClock },
    {
      provide: REACTORS,
      inject: [READ_MODEL_STORE],
      // stage; conversations: assignment (handoffs and team tasks to a member) and SLAs (timers, breaches, escalation, snooze)
      useFactory: (readModels: ReadModelStore) => [
        new StageReactor(loadStagePolicy()),
        new AssignmentReactor(workLoad(readModels)),
        new SlaReactor(),
      ],
    },
    ReactorWorkers,
  ],
  exports: [CLOCK, ReactorWorkers],
})
export class ReactorsModule {}
