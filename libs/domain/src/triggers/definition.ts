/**
 * Trigger definitions as an event-sourced aggregate (stream `trigger-<workspace>-<triggerId>`): every define /
 * update / enable / disable / shadow start and stop is an event, and every version stays readable (runs keep the
 * version they matched).
 */
import { typed, type EventDataByType, type JourneyEvent, type TypedEvent } from '../events';
import { canonicalJson } from '../canonical-json';
import { envelope } from '../envelope';
import { deterministicId } from '../ids';
import type { TriggerDefinition } from './schema';
import { assertValidTrigger } from './validate';

export type TriggerDefinitionEvent = TypedEvent<
  'TriggerDefined' | 'TriggerEnabled' | 'TriggerDisabled' | 'TriggerShadowStarted' | 'TriggerShadowStopped'
>;

/** Every event type of a trigger definition stream. */
export const TRIGGER_DEFINITION_TYPES: readonly TriggerDefinitionEvent['type'][] = [
  'TriggerDefined',
  'TriggerEnabled',
  'TriggerDisabled',
  'TriggerShadowStarted',
  'TriggerShadowStopped',
];

export interface TriggerState {
  triggerId: string;
  /** Latest version (0 when never defined). */
  version: number;
  enabled: boolean;
  definitions: Record<number, TriggerDefinition>;
  /**
   * The version running in shadow (deciding live on every input beside the enabled version, never sending), if any:
   * enabled or not, the trigger's shadow runs while it is set.
   */
  shadow?: number;
  /** Number of events in the stream (for deterministic ids and optimistic concurrency). */
  revision: number;
}

export type TriggerCommand =
  | { type: 'DefineTrigger'; definition: unknown }
  | { type: 'EnableTrigger' }
  | { type: 'DisableTrigger' }
  | { type: 'StartShadow'; version: number }
  | { type: 'StopShadow' };

export class TriggerCommandError extends Error {
  constructor(
    readonly code: 'not_found' | 'id_mismatch' | 'unknown_version',
    message: string,
  ) {
    super(message);
    this.name = 'TriggerCommandError';
  }
}

export function initialTriggerState(triggerId: string): TriggerState {
  return { triggerId, version: 0, enabled: false, definitions: {}, revision: 0 };
}

export function evolveTrigger(state: TriggerState, event: JourneyEvent): TriggerState {
  const e = typed(event);
  switch (e.type) {
    case 'TriggerDefined':
      return {
        ...state,
        version: e.data.version,
        definitions: { ...state.definitions, [e.data.version]: e.data.definition as unknown as TriggerDefinition },
        revision: state.revision + 1,
      };
    case 'TriggerEnabled':
      return { ...state, enabled: true, revision: state.revision + 1 };
    case 'TriggerDisabled':
      return { ...state, enabled: false, revision: state.revision + 1 };
    case 'TriggerShadowStarted':
      return { ...state, shadow: e.data.version, revision: state.revision + 1 };
    case 'TriggerShadowStopped': {
      const { shadow: _stopped, ...rest } = state;
      return { ...rest, revision: state.revision + 1 };
    }
    default:
      return state;
  }
}

export function latestDefinition(state: TriggerState): TriggerDefinition | undefined {
  return state.definitions[state.version];
}

/**
 * Decides the events for a command. Defining validates (throws `InvalidTriggerError` with every error); defining the
 * same document again, enabling an enabled trigger or disabling a disabled one are no-ops (no events). Enabling
 * enables the latest version; a new version of an enabled trigger takes effect at once.
 *
 * Shadow: `StartShadow` runs an existing version in shadow (`unknown_version` otherwise); starting another version
 * stops the current shadow first (a TriggerShadowStopped, then the TriggerShadowStarted), starting the same one again
 * is a no-op; `StopShadow` stops it (a no-op without one).
 */
export function decideTrigger(
  command: TriggerCommand,
  state: TriggerState,
  ctx: { workspaceId: string; now: Date; by?: string },
): TriggerDefinitionEvent[] {
  const make = <T extends TriggerDefinitionEvent['type']>(type: T, data: EventDataByType[T], offset = 0) =>
    envelope({
      id: deterministicId('trigger-definition', ctx.workspaceId, state.triggerId, state.revision + offset),
      type,
      data,
      workspaceId: ctx.workspaceId,
      customerId: '',
      occurredAt: ctx.now.toISOString(),
      recordedAt: ctx.now.toISOString(),
      source: ctx.by ?? 'admin',
    }) as TriggerDefinitionEvent;
  switch (command.type) {
    case 'DefineTrigger': {
      const definition = assertValidTrigger(command.definition);
      if (definition.id !== state.triggerId)
        throw new TriggerCommandError(
          'id_mismatch',
          `id: expected "${state.triggerId}" (the trigger being defined), got "${definition.id}"`,
        );
      const latest = latestDefinition(state);
      if (latest && canonicalJson(latest) === canonicalJson(definition)) return [];
      return [
        make('TriggerDefined', {
          triggerId: state.triggerId,
          version: state.version + 1,
          definition: definition as unknown as Record<string, unknown>,
        }),
      ];
    }
    case 'EnableTrigger':
      if (state.version === 0) throw new TriggerCommandError('not_found', `trigger ${state.triggerId} is not defined`);
      return state.enabled ? [] : [make('TriggerEnabled', { triggerId: state.triggerId, version: state.version })];
    case 'DisableTrigger':
      if (state.version === 0) throw new TriggerCommandError('not_found', `trigger ${state.triggerId} is not defined`);
      return state.enabled ? [make('TriggerDisabled', { triggerId: state.triggerId, version: state.version })] : [];
    case 'StartShadow': {
      if (state.version === 0) throw new TriggerCommandError('not_found', `trigger ${state.triggerId} is not defined`);
      const { version } = command;
      if (!Number.isInteger(version) || !state.definitions[version])
        throw new TriggerCommandError(
          'unknown_version',
          `version: trigger ${state.triggerId} has versions 1 to ${state.version}, not ${JSON.stringify(version)}`,
        );
      if (state.shadow === version) return [];
      const by = ctx.by !== undefined ? { by: ctx.by } : {};
      const stop =
        state.shadow === undefined ? [] : [make('TriggerShadowStopped', { triggerId: state.triggerId, version: state.shadow, ...by })];
      return [...stop, make('TriggerShadowStarted', { triggerId: state.triggerId, version, ...by }, stop.length)];
    }
    case 'StopShadow':
      if (state.version === 0) throw new TriggerCommandError('not_found', `trigger ${state.triggerId} is not defined`);
      return state.shadow === undefined
        ? []
        : [
            make('TriggerShadowStopped', {
              triggerId: state.triggerId,
              version: state.shadow,
              ...(ctx.by !== undefined ? { by: ctx.by } : {}),
            }),
          ];
  }
}
