import { ORGANISATION_EVENT_TYPES, evolveOrganisation, type OrganisationState, type RecordedEvent } from '@journey/domain';
import type { EventStore } from '@journey/event-store';

/** The prefix of the `teams-<workspace>` streams (see `teamsStreamId`). */
export const TEAMS_STREAM = 'teams-';
const PAGE = 1000;

/**
 * Every workspace's teams and members as a reactor reading the log in order sees them: the organisation events before
 * its first batch are read once (an indexed read of their types), the later ones are applied as the reactor meets them,
 * so a decision sees the teams as they were at its place in the log. An event at or before the last one applied (a
 * redelivery) is not applied twice.
 */
export class Organisations {
  private readonly byWorkspace = new Map<string, OrganisationState>();
  private last?: bigint;

  /** Before the first batch: the organisation events of the log before `position`. */
  async ready(position: bigint, store: EventStore): Promise<void> {
    if (this.last !== undefined) return;
    const filter = { streamPrefixes: [TEAMS_STREAM], eventTypes: [...ORGANISATION_EVENT_TYPES] };
    let after = 0n;
    for (;;) {
      const page = await store.readAll({ after, filter, maxCount: PAGE });
      for (const e of page) if (e.position < position) this.apply(e);
      if (page.length < PAGE || page[page.length - 1].position >= position) break;
      after = page[page.length - 1].position;
    }
    this.last ??= 0n;
  }

  /** Applies an event of a teams stream (others are ignored). */
  apply(event: RecordedEvent): void {
    if (!event.streamId.startsWith(TEAMS_STREAM)) return;
    if (this.last !== undefined && event.position <= this.last) return;
    this.last = event.position;
    const ws = event.metadata.workspaceId;
    const before = this.byWorkspace.get(ws);
    if (before === undefined && !(ORGANISATION_EVENT_TYPES as readonly string[]).includes(event.type)) return;
    this.byWorkspace.set(ws, evolveOrganisation(before ?? { teams: new Map(), members: new Map(), revision: 0 }, event));
  }

  /** Every workspace's organisation. */
  entries(): IterableIterator<[string, OrganisationState]> {
    return this.byWorkspace.entries();
  }

  /** The workspace's organisation (undefined: no team or member was ever defined). */
  get(workspaceId: string): OrganisationState | undefined {
    return this.byWorkspace.get(workspaceId);
  }
}
