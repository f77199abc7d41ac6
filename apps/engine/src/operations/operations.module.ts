import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { OperationsController } from './operations.controller';
import { HealthChecks } from './health';
import { Metrics } from './metrics';

@Global()
@Module({
  imports: [TerminusModule],
  controllers: [OperationsController],
  providers: [Metrics, HealthChecks],
  exports: [Metrics, HealthChecks],
})
export class OperationsModule {}
