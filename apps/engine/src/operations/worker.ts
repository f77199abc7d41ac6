import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parentPort, workerData } from 'node:worker_threads';
import { adoptSharedWriteLocks, writeLocked, type SqliteDatabase } from '@journey/event-store';
import { engineModules } from '../app.module';
import { loadConfig } from '../config';
import { PinoNestLogger, createLogger } from '../logger';
import { SQLITE_DB } from '../persistence.module';
import { HealthChecks } from './health';
import { Metrics } from './metrics';
import type { WorkerData, WorkerReply, WorkerRequest } from './worker-thread';

/** How often the worker checkpoints the event log's WAL into its file. */
const WAL_CHECKPOINT_MS = 250;

/** The engine without the keys of the HTTP API (the main thread serves HTTP). */
@Module({ imports: engineModules({ keys: false }) })
class WorkerModule {}

/**
 * Entry of the engine's worker thread (worker-thread.ts starts it): the engine module without HTTP, running the roles
 * in its JOURNEY_ROLES. Answers the main thread's requests for metrics and health, and stops on `shutdown`.
 *
 * It checkpoints the event log's WAL every WAL_CHECKPOINT_MS, under the file's write lock, so the WAL stays small (the
 * checkpoint completes, and the next commit starts it over) and the main thread, which answers ingestion and decides,
 * never runs a checkpoint itself; its writes wait for one (asynchronously) at most briefly.
 */
async function main(port: NonNullable<typeof parentPort>): Promise<void> {
  adoptSharedWriteLocks((workerData as WorkerData).writeLocks);
  const app = await NestFactory.createApplicationContext(WorkerModule, { logger: new PinoNestLogger(createLogger(loadConfig().logLevel)) });
  const metrics = app.get(Metrics);
  const health = app.get(HealthChecks);
  const db = app.get<SqliteDatabase>(SQLITE_DB);
  db.pragma('wal_autocheckpoint = 0');
  const checkpointer = setInterval(() => {
    writeLocked(db, () => db.open && db.pragma('wal_checkpoint(PASSIVE)')).catch((error: Error) =>
      console.error(`journey: WAL checkpoint failed: ${error.message}`),
    );
  }, WAL_CHECKPOINT_MS);
  checkpointer.unref();
  const reply = (m: WorkerReply) => port.postMessage(m);
  port.on('message', (m: WorkerRequest) => {
    if (m.type === 'shutdown') {
      clearInterval(checkpointer);
      void app.close().then(() => process.exit(0)); // ends this thread only
      return;
    }
    const answer =
      m.type === 'metrics'
        ? metrics.registry.getMetricsAsJSON()
        : Promise.all(
            [...health.checks].map(([name, check]) =>
              check().then(
                () => undefined,
                (e: Error) => `${name}: ${e.message}`,
              ),
            ),
          ).then((r) => r.filter(Boolean));
    answer.then(
      (result) => reply({ id: m.id, result }),
      (error: Error) => reply({ id: m.id, error: error.message }),
    );
  });
  reply({ type: 'ready' });
}

if (!parentPort) throw new Error('apps/engine/src/operations/worker.ts runs as a worker thread (see worker-thread.ts)');
main(parentPort).catch((error) => {
  console.error(error);
  process.exit(1);
});
