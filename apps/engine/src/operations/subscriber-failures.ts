import { Inject, Injectable } from '@nestjs/common';
import type { FailureSettings } from '@journey/event-store';
import { ENGINE_CONFIG, type EngineConfig } from '../config';
import { Metrics } from './metrics';

/** The `failures` option every subscriber runtime of the engine gets: the configured policy, counting quarantines. */
@Injectable()
export class SubscriberFailures {
  readonly settings: FailureSettings;

  constructor(@Inject(ENGINE_CONFIG) config: EngineConfig, metrics: Metrics) {
    this.settings = { ...config.failures, onQuarantined: (subscriber) => metrics.deadLetters.inc({ subscriber }) };
  }
}
