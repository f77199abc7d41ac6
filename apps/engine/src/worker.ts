import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { parentPort, workerData } from 'node:worker_threads';
import { adoptSharedWriteLocks } from '@journey/event-store';
import { AppModule } from './app.module';
import { loadConfig } from './config';
import { PinoNestLogger, createLogger } from './logger';
import { HealthChecks } from './operations/health';
import { Metrics } from './operations/metrics';
import type { WorkerData, WorkerReply, WorkerRequest } from './operations/worker-thread';

/**
 * Entry of the engine's worker thread (operations/worker-thread.ts starts it): the engine module without HTTP, running
 * the roles in its JOURNEY_ROLES. Answers the main thread's requests for metrics and health, and stops on `shutdown`.
 */
async function main(port: NonNullable<typeof parentPort>): Promise<void> {
  adoptSharedWriteLocks((workerData as WorkerData).writeLocks);
  const app = await NestFactory.createApplicationContext(AppModule, { logger: new PinoNestLogger(createLogger(loadConfig().logLevel)) });
  const metrics = app.get(Metrics);
  const health = app.get(HealthChecks);
  const reply = (m: WorkerReply) => port.postMessage(m);
  port.on('message', (m: WorkerRequest) => {
    if (m.type === 'shutdown') {
      void app.close().then(() => process.exit(0)); // ends this thread only
      return;
    }
    const answer =
      m.type === 'metrics'
        ? metrics.registry.getMetricsAsJSON()
        : Promise.all([...health.checks].map(([name, check]) => check().then(() => undefined, (e: Error) => `${name}: ${e.message}`))).then((r) => r.filter(Boolean));
    answer.then(
      (result) => reply({ id: m.id, result }),
      (error: Error) => reply({ id: m.id, error: error.message }),
    );
  });
  reply({ type: 'ready' });
}

if (!parentPort) throw new Error('apps/engine/src/worker.ts runs as a worker thread (see operations/worker-thread.ts)');
main(parentPort).catch((error) => {
  console.error(error);
  process.exit(1);
});
