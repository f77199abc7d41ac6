/**
 * Segment definitions as an event-sourced aggregate (stream `segment-<workspace>-<segmentId>`), as triggers are: every
 * define is a new version (SegmentDefined), a removal is a SegmentRemoved, and every version stays readable. The
 * segment reactor's backfill progress (SegmentBackfillProgressed) lives on the same stream.
 */
import { typed, type EventDataByType, type JourneyEvent, type TypedEvent } from '../events';
import { canonicalJson } from '../canonical-json';
import { envelope } from '../envelope';
import { deterministicId } from '../ids';
import { InvalidSegmentError, validateSegment, type SegmentDefinition } from './schema';

export type SegmentDefinitionEvent = TypedEvent<'SegmentDefined' | 'SegmentRemoved'>;

export interface SegmentBackfill {
  of: 'SegmentDefined' | 'SegmentRemoved';
  version: number;
  /** Customers asked to be evaluated so far. */
  customers: number;
  done: boolean;
}

export interface SegmentState {
  segmentId: string;
  /** Latest version (0 when never defined). */
  version: number;
  /** Removed (SegmentRemoved after its latest SegmentDefined). */
  removed: boolean;
  definitions: Record<number, SegmentDefinition>;
  /** Events in the stream (for deterministic ids and optimistic concurrency). */
  revision: number;
  /** The latest backfill's progress (of the latest change), if it started. */
  backfill?: SegmentBackfill;
}

export type SegmentCommand = { type: 'DefineSegment'; definition: unknown } | { type: 'RemoveSegment' };

export class SegmentCommandError extends Error {
  constructor(
    readonly code: 'not_found' | 'id_mismatch',
    message: string,
  ) {
    super(message);
    this.name = 'SegmentCommandError';
  }
}

export function initialSegmentState(segmentId: string): SegmentState {
  return { segmentId, version: 0, removed: false, definitions: {}, revision: 0 };
}

export function evolveSegment(state: SegmentState, event: JourneyEvent): SegmentState {
  const e = typed(event);
  switch (e.type) {
    case 'SegmentDefined':
      return {
        ...state,
        version: e.data.version,
        removed: false,
        definitions: { ...state.definitions, [e.data.version]: e.data.definition as unknown as SegmentDefinition },
        revision: state.revision + 1,
        backfill: undefined,
      };
    case 'SegmentRemoved':
      return { ...state, removed: true, revision: state.revision + 1, backfill: undefined };
    case 'SegmentBackfillProgressed': {
      const { of, version, customers, done } = e.data;
      return { ...state, revision: state.revision + 1, backfill: { of, version, customers, done } };
    }
    default:
      return state;
  }
}

export function latestSegmentDefinition(state: SegmentState): SegmentDefinition | undefined {
  return state.definitions[state.version];
}

/**
 * Decides the events of a command. Defining validates (throws `InvalidSegmentError` with every error); the same
 * document again is a no-op (no events), unless the segment was removed (then it is a new version). Removing a
 * removed segment is a no-op; removing one never defined is `not_found`.
 */
export function decideSegment(
  command: SegmentCommand,
  state: SegmentState,
  ctx: { workspaceId: string; now: Date; by?: string },
): SegmentDefinitionEvent[] {
  const make = <T extends SegmentDefinitionEvent['type']>(type: T, data: EventDataByType[T]) =>
    envelope({
      id: deterministicId('segment-definition', ctx.workspaceId, state.segmentId, state.revision),
      type,
      data,
      workspaceId: ctx.workspaceId,
      customerId: '',
      occurredAt: ctx.now.toISOString(),
      recordedAt: ctx.now.toISOString(),
      source: ctx.by ?? 'admin',
    }) as SegmentDefinitionEvent;
  switch (command.type) {
    case 'DefineSegment': {
      const result = validateSegment(command.definition);
      if (!result.ok) throw new InvalidSegmentError(result.errors);
      const definition = result.definition;
      if (definition.id !== state.segmentId)
        throw new SegmentCommandError(
          'id_mismatch',
          `id: expected "${state.segmentId}" (the segment being defined), got "${definition.id}"`,
        );
      const latest = latestSegmentDefinition(state);
      if (!state.removed && latest && canonicalJson(latest) === canonicalJson(definition)) return [];
      return [
        make('SegmentDefined', {
          segmentId: state.segmentId,
          version: state.version + 1,
          definition: definition as unknown as Record<string, unknown>,
          ...(ctx.by !== undefined && { by: ctx.by }),
        }),
      ];
    }
    case 'RemoveSegment':
      if (state.version === 0) throw new SegmentCommandError('not_found', `segment ${state.segmentId} is not defined`);
      if (state.removed) return [];
      return [make('SegmentRemoved', { segmentId: state.segmentId, version: state.version, ...(ctx.by !== undefined && { by: ctx.by }) })];
  }
}
