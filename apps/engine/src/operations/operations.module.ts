import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { OperationsController } from './operations.controller';
import { HealthChecks } from './health';
import { Metrics } from './metrics';
import { SubscriberFailures } from './subscriber-failures';
import { WorkerThread } from './worker-thread';

@Global()
@Module({
  imports: [TerminusModule],
  controllers: [OperationsController],
  providers: [Metrics, HealthChecks, WorkerThread, SubscriberFailures],
  exports: [Metrics, HealthChecks, SubscriberFailures],
})
export class OperationsModule {}
