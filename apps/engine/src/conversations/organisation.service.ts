import { Inject, Injectable, PreconditionFailedException, ConflictException } from '@nestjs/common';
import {
  decideOrganisation,
  decideSettings,
  evolveOrganisation,
  evolveSettings,
  organisationFromStream,
  settingsFromStream,
  teamsStreamId,
  workspaceStreamId,
  type JourneyEvent,
  type OrganisationCommand,
  type OrganisationState,
  type SettingsCommand,
  type SettingsState,
} from '@journey/domain';
import { EVENT_STORE, StreamFold, WrongExpectedRevisionError, type EventStore } from '@journey/event-store';
import { httpError } from './conversations.service';

const RETRIES = 5;

/**
 * One small stream per workspace, folded whole and decided on: its teams and members (`teams-<workspace>`), its
 * settings and secrets (`workspace-<workspace>`). The fold is kept per workspace and brought up to date by reading the
 * stream from the revision it has, so the many reads (every in-app request checks a token) cost one indexed read.
 */
class WorkspaceStream<S extends { revision: number }, C> extends StreamFold<S> {
  constructor(
    private readonly log: EventStore,
    private readonly streamOf: (workspaceId: string) => string,
    initial: () => S,
    private readonly evolveOne: (state: S, event: JourneyEvent) => S,
    private readonly decideFn: (command: C, state: S, ctx: { workspaceId: string; now: Date; by?: string }) => JourneyEvent[],
  ) {
    super(log, streamOf, initial, evolveOne);
  }

  /** Decides and appends; `ifMatch`: the revision the caller saw (412 on another). Returns the state after. */
  async decide(workspaceId: string, command: C, options: { by?: string; ifMatch?: number } = {}): Promise<{ state: S; changed: boolean }> {
    for (let attempt = 1; ; attempt++) {
      const state = await this.load(workspaceId);
      if (options.ifMatch !== undefined && options.ifMatch !== state.revision)
        throw new PreconditionFailedException(`If-Match: at revision ${state.revision}, not ${options.ifMatch}; read it again`);
      let events: JourneyEvent[];
      try {
        events = this.decideFn(command, state, { workspaceId, now: new Date(), ...(options.by !== undefined && { by: options.by }) });
      } catch (error) {
        throw httpError(error);
      }
      if (events.length === 0) return { state, changed: false };
      try {
        await this.log.appendToStream(this.streamOf(workspaceId), events, {
          expectedRevision: state.revision === 0 ? 'no_stream' : BigInt(state.revision - 1),
        });
        return { state: events.reduce(this.evolveOne, state), changed: true };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError)) throw error;
        if (options.ifMatch !== undefined || attempt >= RETRIES)
          throw new ConflictException('changed concurrently; read it again and retry');
      }
    }
  }
}

/** Teams and members of a workspace. */
@Injectable()
export class OrganisationService extends WorkspaceStream<OrganisationState, OrganisationCommand> {
  constructor(@Inject(EVENT_STORE) store: EventStore) {
    super(store, teamsStreamId, () => organisationFromStream([]), evolveOrganisation, decideOrganisation);
  }
}

/** Settings and named secrets of a workspace. */
@Injectable()
export class SettingsService extends WorkspaceStream<SettingsState, SettingsCommand> {
  constructor(@Inject(EVENT_STORE) store: EventStore) {
    super(store, workspaceStreamId, () => settingsFromStream([]), evolveSettings, decideSettings);
  }
}
