/** The engine's clock: reactors and the timer scheduler read time and wait through it, so tests can drive time. */
export interface Clock {
  now(): Date;
  /** Calls `callback` after `ms` milliseconds of this clock's time; returns a function that cancels it. */
  schedule(callback: () => void, ms: number): () => void;
}

export const CLOCK = Symbol('CLOCK');

export const systemClock: Clock = {
  now: () => new Date(),
  schedule(callback, ms) {
    const handle = setTimeout(callback, ms);
    handle.unref();
    return () => clearTimeout(handle);
  },
};
