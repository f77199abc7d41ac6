import type { Clock } from '../runtime/clock';

/** A clock for tests: time moves only when `advance` or `set` is called, and due callbacks run then, in due order. */
export class FakeClock implements Clock {
  private time: number;
  private timers: Array<{ at: number; callback: () => void }> = [];

  constructor(start: Date | string = '2025-01-01T00:00:00.000Z') {
    this.time = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.time);
  }

  schedule(callback: () => void, ms: number): () => void {
    const timer = { at: this.time + Math.max(0, ms), callback };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  advance(ms: number): void {
    this.set(new Date(this.time + ms));
  }

  set(date: Date | string): void {
    this.time = new Date(date).getTime();
    for (;;) {
      const due = this.timers.filter((t) => t.at <= this.time).sort((a, b) => a.at - b.at)[0];
      if (!due) return;
      this.timers = this.timers.filter((t) => t !== due);
      due.callback();
    }
  }

  /** How many callbacks are waiting (lets a test check that a component armed exactly one timer). */
  get scheduled(): number {
    return this.timers.length;
  }
}
