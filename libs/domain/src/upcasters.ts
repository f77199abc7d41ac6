import type { JourneyEvent } from './events';

/**
 * Schema evolution: an upcaster turns the stored data of an event type at one schema version into the next version.
 * The event store adapters hold an `Upcasters` value and upcast every event they read, so the rest of the engine only
 * ever sees the current shape; `envelope` stamps the current version on every event written (see ENGINE_UPCASTERS).
 */
export interface Upcaster {
  type: string;
  /** The version it reads; it returns the data at `fromVersion + 1`. */
  fromVersion: number;
  upcast: (data: Record<string, unknown>) => Record<string, unknown>;
}

/** A set of upcasters: the current schema version of each event type and the way up to it. Immutable. */
export class Upcasters {
  private readonly steps = new Map<string, Upcaster['upcast']>();
  private readonly current = new Map<string, number>();

  private constructor(list: readonly Upcaster[]) {
    for (const u of list) {
      if (!Number.isInteger(u.fromVersion) || u.fromVersion < 1)
        throw new Error(`upcaster for ${u.type}: fromVersion must be an integer >= 1, got ${u.fromVersion}`);
      const key = `${u.type}@${u.fromVersion}`;
      if (this.steps.has(key)) throw new Error(`two upcasters for ${u.type} from schema version ${u.fromVersion}`);
      this.steps.set(key, u.upcast);
      this.current.set(u.type, Math.max(this.current.get(u.type) ?? 1, u.fromVersion + 1));
    }
  }

  static of(list: readonly Upcaster[]): Upcasters {
    return new Upcasters(list);
  }

  /** The version writers stamp on `type`: one past its last upcaster's, 1 for a type without upcasters. */
  currentVersion(type: string): number {
    // An empty set (the engine's today) answers without a lookup: every envelope built asks.
    return this.current.size === 0 ? 1 : (this.current.get(type) ?? 1);
  }

  /** The event at its type's current version: the same object when it already is (or its type has no upcasters). */
  upcast<E extends JourneyEvent>(event: E): E {
    if (this.current.size === 0) return event;
    const target = this.current.get(event.type);
    let version = event.metadata.schemaVersion ?? 1;
    if (target === undefined || version >= target) return event;
    let data = event.data as Record<string, unknown>;
    for (; version < target; version++) {
      const step = this.steps.get(`${event.type}@${version}`);
      if (!step) throw new Error(`no upcaster for ${event.type} from schema version ${version}`);
      data = step(data);
    }
    return { ...event, data, metadata: { ...event.metadata, schemaVersion: target } };
  }
}
