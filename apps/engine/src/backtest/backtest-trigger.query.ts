import { BadRequestException, Inject, NotFoundException } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import {
  evolveTrigger,
  formatValidationError,
  initialTriggerState,
  latestDefinition,
  triggerStreamId,
  validateTrigger,
  type BacktestReport,
  type TriggerDefinition,
} from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { TRIGGER_VALIDATION } from '@journey/messaging';
import { runBacktest } from '@journey/reactors';

/**
 * POST /v1/triggers/backtest (no `triggerId`: a draft, required) and POST /v1/triggers/:id/backtest (a draft of trigger
 * :id, else its stored latest version): replay [from, to) through the trigger. Nothing is appended and nothing is sent.
 */
export class BacktestTriggerQuery extends Query<BacktestReport> {
  constructor(
    readonly workspaceId: string,
    readonly triggerId: string | undefined,
    readonly request: { from?: Date; to?: Date; definition?: unknown },
  ) {
    super();
  }
}

@QueryHandler(BacktestTriggerQuery)
export class BacktestTriggerHandler implements IQueryHandler<BacktestTriggerQuery> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ workspaceId, triggerId: id, request: { from, to, definition } }: BacktestTriggerQuery): Promise<BacktestReport> {
    if (id === undefined) {
      if (definition === undefined)
        throw new BadRequestException('definition: is required (or backtest a stored trigger with POST /v1/triggers/:id/backtest)');
      return runBacktest(this.store, { workspaceId, definition: validDraft(definition), from, to, version: 1 });
    }
    let state = initialTriggerState(id);
    for (const e of await this.store.readStream(triggerStreamId(workspaceId, id))) state = evolveTrigger(state, e);
    const stored = latestDefinition(state);
    if (definition === undefined) {
      if (!stored) throw new NotFoundException(`trigger "${id}" not found: give a draft as definition to backtest it before creating it`);
      return runBacktest(this.store, { workspaceId, definition: stored, from, to, version: state.version });
    }
    const draft = validDraft(definition);
    if (draft.id !== id) throw new BadRequestException(`definition.id: expected "${id}" (the trigger in the path), got "${draft.id}"`);
    return runBacktest(this.store, { workspaceId, definition: draft, from, to, version: state.version + 1 });
  }
}

function validDraft(doc: unknown, field = 'definition'): TriggerDefinition {
  const v = validateTrigger(doc, TRIGGER_VALIDATION);
  if (!v.ok)
    throw new BadRequestException({
      statusCode: 400,
      error: 'Bad Request',
      message: v.errors.map((e) => formatValidationError({ ...e, path: e.path ? `${field}.${e.path}` : field })),
      errors: v.errors,
    });
  return v.definition;
}
