import { Upcasters } from './upcasters';

/**
 * The engine's upcasters: when an event type's data changes shape, add the upcaster from its last version here (see
 * deploy/operations.md "Upgrades and schema evolution"). Writers stamp these current versions (`envelope`), and the
 * event store adapters upcast older events with them on read. None yet: every type is at version 1.
 */
export const ENGINE_UPCASTERS: Upcasters = Upcasters.of([]);
