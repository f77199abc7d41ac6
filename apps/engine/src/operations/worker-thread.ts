import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Backoff, releaseWriteLocksHeldBy, sharedWriteLocks } from '@journey/event-store';
import { ENGINE_CONFIG, type EngineConfig } from '../config';
import { HealthChecks } from './health';
import { Metrics } from './metrics';

/** What the main thread asks its worker thread, and what the worker answers (worker.ts). */
export type WorkerRequest = { id: number; type: 'metrics' | 'health' } | { type: 'shutdown' };
export interface WorkerData {
  /** The module to run (worker.ts). */
  entry: string;
  /** The write locks of the SQLite files (libs/event-store/src/sqlite/write-lock.ts), by path. */
  writeLocks: Record<string, SharedArrayBuffer>;
}
export type WorkerReply = { type: 'ready' } | { id: number; result: unknown } | { id: number; error: string };

const REQUEST_TIMEOUT_MS = 5_000;
const SHUTDOWN_TIMEOUT_MS = 30_000;
/** A worker that ran this long before dying is restarted after the first delay again (not a crash loop). */
const STABLE_AFTER_MS = 60_000;

/**
 * Runs the roles of JOURNEY_WORKER_ROLES (config.workerRoles) in a worker thread of this process: the same engine
 * module on its own connection to the same SQLite file, with no HTTP. The main thread's /health includes the worker's
 * checks and /metrics its metrics. A worker that dies is restarted with backoff (its roles resume from their stored
 * checkpoints); on shutdown it is stopped gracefully before the main thread closes the file.
 */
@Injectable()
export class WorkerThread implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('worker-thread');
  private worker?: Worker;
  private ready = false;
  private readyAt = 0;
  private stopping = false;
  /** Restart delays: 1 s doubling up to 30 s. */
  private readonly restarts = new Backoff(1_000, 30_000);
  private restartTimer?: NodeJS.Timeout;
  private lastExit?: string;
  private nextId = 0;
  private readonly requests = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();

  constructor(
    @Inject(ENGINE_CONFIG) private readonly config: EngineConfig,
    private readonly health: HealthChecks,
    private readonly metricsRegistry: Metrics,
  ) {}

  get roles(): string {
    return [...this.config.workerRoles].join(', ');
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.workerRoles.size === 0) return;
    this.health.register(`worker-thread (${this.roles})`, async () => {
      const failures = (await this.request('health')) as string[];
      if (failures.length) throw new Error(failures.join('; '));
    });
    await this.start();
  }

  /** The worker's metrics (prom-client's JSON form), for the main thread to aggregate; none without a worker. */
  async metrics(): Promise<object[]> {
    if (this.config.workerRoles.size === 0) return [];
    return [(await this.request('metrics')) as object];
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'shutdown' } satisfies WorkerRequest);
    const force = setTimeout(() => {
      this.logger.error(`worker thread (${this.roles}) did not stop within ${SHUTDOWN_TIMEOUT_MS} ms: terminating it`);
      void worker.terminate();
    }, SHUTDOWN_TIMEOUT_MS);
    await exited;
    clearTimeout(force);
  }

  private start(): Promise<void> {
    const worker = new Worker(`require(require('node:worker_threads').workerData.entry)`, {
      eval: true, // the entry is required, so the loader this process runs with (compiled JS, or TypeScript in tests) applies
      workerData: { entry: join(__dirname, 'worker'), writeLocks: sharedWriteLocks() } satisfies WorkerData,
      env: { ...process.env, JOURNEY_ROLES: [...this.config.workerRoles].join(','), JOURNEY_WORKER_ROLES: '' },
    });
    this.worker = worker;
    this.ready = false;
    const id = worker.threadId;
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (m: WorkerReply) => {
        if ('type' in m) {
          this.ready = true;
          this.readyAt = Date.now();
          this.lastExit = undefined;
          return resolve();
        }
        const pending = this.requests.get(m.id);
        if (!pending) return;
        this.requests.delete(m.id);
        clearTimeout(pending.timer);
        if ('error' in m) pending.reject(new Error(m.error));
        else pending.resolve(m.result);
      });
      worker.on('error', (error) => {
        this.lastExit = error.message;
        this.logger.error(`worker thread (${this.roles}) failed: ${error.stack ?? error.message}`);
      });
      worker.once('exit', (code) => {
        const wasReady = this.ready;
        releaseWriteLocksHeldBy(id); // had it been terminated in the middle of a write
        this.worker = undefined;
        this.ready = false;
        for (const [id, pending] of this.requests) {
          clearTimeout(pending.timer);
          pending.reject(new Error(`worker thread (${this.roles}) exited`));
          this.requests.delete(id);
        }
        if (this.stopping) return;
        this.lastExit = `exited with code ${code}${this.lastExit ? ` (${this.lastExit})` : ''}`;
        if (!wasReady) return reject(new Error(`worker thread (${this.roles}) ${this.lastExit} while starting`));
        if (Date.now() - this.readyAt > STABLE_AFTER_MS) this.restarts.reset();
        this.metricsRegistry.workerRestarts.inc();
        const delay = this.restarts.next();
        this.logger.error(`worker thread (${this.roles}) ${this.lastExit}; restarting in ${delay} ms`);
        this.scheduleRestart(delay);
      });
    });
  }

  /** Starts the worker again after `delay` (the next one of the restart backoff if it dies again while starting). */
  private scheduleRestart(delay: number): void {
    this.restartTimer = setTimeout(() => {
      this.start().catch((error: Error) => {
        // It died again while starting: the exit handler did not schedule anything, so try again later.
        this.logger.error(error.message);
        if (!this.stopping) this.scheduleRestart(this.restarts.next());
      });
    }, delay);
  }

  private request(type: 'metrics' | 'health'): Promise<unknown> {
    const worker = this.worker;
    if (!worker || !this.ready)
      return Promise.reject(new Error(`worker thread (${this.roles}) is not running${this.lastExit ? `: ${this.lastExit}` : ''}`));
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.requests.delete(id);
        reject(new Error(`worker thread (${this.roles}) did not answer "${type}" within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.requests.set(id, { resolve, reject, timer });
      worker.postMessage({ id, type } satisfies WorkerRequest);
    });
  }
}
