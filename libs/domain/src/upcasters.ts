import type { JourneyEvent } from './events';

/**
 * Schema evolution: an upcaster turns the stored data of an event type at one schema version into the next version.
 * Adapters call `upcast` on every event they read, so the rest of the engine only ever sees the current shape.
 * Writers stamp `schemaVersion: currentSchemaVersion(type)`.
 */
export type Upcaster = (data: Record<string, unknown>) => Record<string, unknown>;

const steps = new Map<string, Upcaster>();
const current = new Map<string, number>();

/** Registers the upcaster that turns `type` at `fromVersion` into `fromVersion + 1`. */
export function registerUpcaster(type: string, fromVersion: number, upcaster: Upcaster): void {
  steps.set(`${type}@${fromVersion}`, upcaster);
  current.set(type, Math.max(current.get(type) ?? 1, fromVersion + 1));
}

export function currentSchemaVersion(type: string): number {
  return current.get(type) ?? 1;
}

export function upcast<E extends JourneyEvent>(event: E): E {
  const target = current.get(event.type);
  let version = event.metadata.schemaVersion ?? 1;
  if (target === undefined || version >= target) return event;
  let data = event.data as Record<string, unknown>;
  for (; version < target; version++) {
    const step = steps.get(`${event.type}@${version}`);
    if (!step) throw new Error(`no upcaster for ${event.type} from schema version ${version}`);
    data = step(data);
  }
  return { ...event, data, metadata: { ...event.metadata, schemaVersion: target } } as E;
}
