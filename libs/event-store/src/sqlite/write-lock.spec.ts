import { Worker } from 'node:worker_threads';
import { WriteLock } from './write-lock';

/** A second thread that takes the lock's cell as WriteLock does, holds it for `holdMs`, then hands it over (or dies holding it). */
function holdInAnotherThread(lock: WriteLock, holdMs: number, release: boolean): Promise<{ worker: Worker; threadId: number }> {
  const worker = new Worker(
    `const { workerData, parentPort, threadId } = require('node:worker_threads');
     const cell = new Int32Array(workerData.buffer);
     if (Atomics.compareExchange(cell, 0, 0, threadId + 1) !== 0) throw new Error('lock was taken');
     parentPort.postMessage('holding');
     setTimeout(() => {
       if (workerData.release) { Atomics.store(cell, 0, 0); Atomics.notify(cell, 0); }
       parentPort.postMessage('done');
     }, workerData.holdMs);`,
    { eval: true, workerData: { buffer: lock.buffer, holdMs, release } },
  );
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', () => resolve({ worker, threadId: worker.threadId }));
  });
}

describe('WriteLock: one writer at a time across threads', () => {
  it('waits for the other thread without blocking its own event loop, then runs the write', async () => {
    const lock = new WriteLock();
    const { worker } = await holdInAnotherThread(lock, 150, true);
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    const started = Date.now();
    const result = await lock.run(() => ({ ranAfterMs: Date.now() - started, ticksWhileWaiting: ticks }));
    clearInterval(ticker);
    await worker.terminate();
    expect(result.ranAfterMs).toBeGreaterThanOrEqual(100); // not before the holder released it
    expect(result.ranAfterMs).toBeLessThan(900); // woken by the release, not by the 1 s safety recheck
    expect(result.ticksWhileWaiting).toBeGreaterThan(3); // the event loop ran meanwhile
  });

  it('serialises writers of the same thread and releases after a failing write', async () => {
    const lock = new WriteLock();
    const order: string[] = [];
    const failing = lock.run(() => {
      order.push('a');
      throw new Error('constraint failed');
    });
    const next = lock.run(() => order.push('b'));
    await expect(failing).rejects.toThrow('constraint failed');
    await next;
    expect(order).toEqual(['a', 'b']);
  });

  it('frees a lock whose holder thread died holding it', async () => {
    const lock = new WriteLock();
    const { worker, threadId } = await holdInAnotherThread(lock, 0, false);
    await new Promise((resolve) => worker.once('message', resolve));
    await worker.terminate();
    let ran = false;
    const pending = lock.run(() => (ran = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ran).toBe(false); // still held by the dead thread
    lock.releaseHeldBy(threadId);
    await pending;
    expect(ran).toBe(true);
  });
});
