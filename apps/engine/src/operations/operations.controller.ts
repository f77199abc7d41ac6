import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { AggregatorRegistry } from 'prom-client';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { Allow } from '../auth/auth.guard';
import { ENGINE_CONFIG, type EngineConfig } from '../config';
import { HealthChecks, eventStoreCheck } from './health';
import { Metrics } from './metrics';
import { WorkerThread } from './worker-thread';

@ApiTags('operations')
@Controller()
export class OperationsController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly checks: HealthChecks,
    private readonly metrics: Metrics,
    private readonly worker: WorkerThread,
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(ENGINE_CONFIG) config: EngineConfig,
  ) {
    checks.register(eventStoreCheck(config), () => store.ping(), { eventStore: true });
  }

  @Get('health')
  @Allow()
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness and readiness of each engine' })
  check() {
    return this.health.check(
      [...this.checks.checks].map(([name, ping]) => async () => {
        const session = this.indicator.check(name);
        try {
          await ping();
          return session.up();
        } catch (error) {
          return session.down({ message: (error as Error).message });
        }
      }),
    );
  }

  @Get('metrics')
  @Allow('admin', 'analyst')
  @ApiBearerAuth('key')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  @ApiOperation({ summary: 'Prometheus metrics' })
  async scrape(): Promise<string> {
    const worker = await this.worker.metrics();
    if (worker.length === 0) return this.metrics.registry.metrics();
    return AggregatorRegistry.aggregate([await this.metrics.registry.getMetricsAsJSON(), ...worker]).metrics();
  }
}
