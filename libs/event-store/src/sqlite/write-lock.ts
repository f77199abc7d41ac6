import { threadId } from 'node:worker_threads';

/** How long a waiter sleeps before it looks at the lock again even without a wake-up (a safety net only). */
const RECHECK_MS = 1_000;

/**
 * One writer at a time across the threads of this process, without blocking anyone's event loop.
 *
 * SQLite lets one connection write at a time; a connection that finds the file locked sleeps in its busy handler
 * (1, 2, 5, 10 … 100 ms), blocking its thread. The engine's threads (main and worker) each write to the same file, so
 * they take this lock first: a SharedArrayBuffer cell holding the owner's thread id + 1 (0: free), waited on with
 * `Atomics.waitAsync` (the waiter's event loop keeps running) and handed over with `Atomics.notify` the moment the
 * holder's transaction ends. Other processes on the same file still meet SQLite's own lock (busy_timeout).
 */
export class WriteLock {
  private readonly cell: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.cell = new Int32Array(buffer);
  }

  /** Runs a synchronous write (a transaction) under the lock. */
  async run<T>(write: () => T): Promise<T> {
    const me = threadId + 1;
    for (;;) {
      const holder = Atomics.compareExchange(this.cell, 0, 0, me);
      if (holder === 0) break;
      const wait = Atomics.waitAsync(this.cell, 0, holder, RECHECK_MS);
      if (wait.async) await wait.value;
    }
    try {
      return write();
    } finally {
      this.release(me);
    }
  }

  /** Frees the lock if the thread `id` holds it: for a thread that was terminated inside a write (see WorkerThread). */
  releaseHeldBy(id: number): void {
    this.release(id + 1);
  }

  private release(holder: number): void {
    if (Atomics.compareExchange(this.cell, 0, holder, 0) === holder) Atomics.notify(this.cell, 0);
  }
}
