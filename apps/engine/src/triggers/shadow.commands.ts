import { Inject, NotFoundException } from '@nestjs/common';
import { Command, CommandHandler, Query, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import { evolveTrigger, initialTriggerState, triggerStreamId } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import type { Principal } from '../auth/key-store';
import { TriggersService, type TriggerChange } from './triggers.service';

/** A trigger's shadow: the version deciding in shadow beside the live one (null: none), with the trigger's summary. */
export interface TriggerShadow {
  id: string;
  name: string;
  /** The latest version (live while enabled). */
  version: number;
  enabled: boolean;
  shadow: number | null;
}

export type TriggerShadowChange = TriggerShadow & Pick<TriggerChange, 'changed'>;

/** POST /v1/triggers/:id/shadow: run `version` in shadow (replacing the version in shadow, if another). */
export class StartShadowCommand extends Command<TriggerShadowChange> {
  constructor(
    readonly principal: Principal,
    readonly triggerId: string,
    readonly version: number,
  ) {
    super();
  }
}

/** DELETE /v1/triggers/:id/shadow: stop the shadow (its active runs end on their customer's next input). */
export class StopShadowCommand extends Command<TriggerShadowChange> {
  constructor(
    readonly principal: Principal,
    readonly triggerId: string,
  ) {
    super();
  }
}

/** GET /v1/triggers/:id/shadow. */
export class GetShadowQuery extends Query<TriggerShadow> {
  constructor(
    readonly workspaceId: string,
    readonly triggerId: string,
  ) {
    super();
  }
}

@CommandHandler(StartShadowCommand)
export class StartShadowHandler implements ICommandHandler<StartShadowCommand> {
  constructor(private readonly triggers: TriggersService) {}

  async execute({ principal, triggerId, version }: StartShadowCommand): Promise<TriggerShadowChange> {
    const change = await this.triggers.decideAndAppend(principal, triggerId, { type: 'StartShadow', version }, { mustExist: true });
    return { ...change, shadow: version };
  }
}

@CommandHandler(StopShadowCommand)
export class StopShadowHandler implements ICommandHandler<StopShadowCommand> {
  constructor(private readonly triggers: TriggersService) {}

  async execute({ principal, triggerId }: StopShadowCommand): Promise<TriggerShadowChange> {
    const change = await this.triggers.decideAndAppend(principal, triggerId, { type: 'StopShadow' }, { mustExist: true });
    return { ...change, shadow: null };
  }
}

@QueryHandler(GetShadowQuery)
export class GetShadowHandler implements IQueryHandler<GetShadowQuery> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ workspaceId, triggerId }: GetShadowQuery): Promise<TriggerShadow> {
    const state = (await this.store.readStream(triggerStreamId(workspaceId, triggerId))).reduce(
      evolveTrigger,
      initialTriggerState(triggerId),
    );
    if (state.version === 0) throw new NotFoundException(`trigger "${triggerId}" not found`);
    return {
      id: triggerId,
      name: state.definitions[state.version]?.name ?? '',
      version: state.version,
      enabled: state.enabled,
      shadow: state.shadow ?? null,
    };
  }
}
