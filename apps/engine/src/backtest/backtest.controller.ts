import { BadRequestException, Body, Controller, HttpCode, Inject, NotFoundException, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
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
import { Allow, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/key-store';
import { backtestBodySchema } from '../triggers/triggers.dto';

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** `{ from?, to?, definition? }`: the range [from, to) as ISO 8601 times (to defaults to now) and a draft definition. */
export function parseBacktestRequest(body: unknown): { from?: Date; to?: Date; definition?: unknown } {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new BadRequestException('the body must be a JSON object: { "from"?, "to"?, "definition"? }');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !['from', 'to', 'definition'].includes(k));
  if (unknown.length) throw new BadRequestException(`${unknown[0]}: unknown field; expected from, to, definition`);
  const time = (field: 'from' | 'to') => {
    const v = b[field];
    if (v === undefined) return undefined;
    const ms = typeof v === 'string' && ISO_8601.test(v) ? Date.parse(v) : NaN;
    if (Number.isNaN(ms)) throw new BadRequestException(`${field}: expected an ISO 8601 date or date-time such as 2025-01-31T00:00:00Z, got ${JSON.stringify(v)}`);
    return new Date(ms);
  };
  const from = time('from');
  const to = time('to');
  if (from && to && from >= to) throw new BadRequestException(`from: must be before to (${from.toISOString()} >= ${to.toISOString()})`);
  return { from, to, definition: b.definition };
}

function validDraft(doc: unknown, field = 'definition'): TriggerDefinition {
  const v = validateTrigger(doc, TRIGGER_VALIDATION);
  if (!v.ok) throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: v.errors.map((e) => formatValidationError({ ...e, path: e.path ? `${field}.${e.path}` : field })), errors: v.errors });
  return v.definition;
}

/**
 * Backtests: replay history through a trigger (a draft, or the stored latest version) and report per step who would
 * have entered, waited, branched, been sent what, been suppressed by which guard, and how runs ended. Nothing is
 * appended and nothing is sent.
 */
@ApiTags('triggers')
@ApiBearerAuth('key')
@Controller('v1/triggers')
@Allow('admin', 'csm')
export class BacktestController {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  @Post('backtest')
  @HttpCode(200)
  @ApiOperation({ summary: 'Backtest a draft trigger (not stored) over [from, to)' })
  @ApiBody({ schema: backtestBodySchema(true) })
  async backtestDraft(@CurrentPrincipal() principal: Principal, @Body() body: unknown): Promise<BacktestReport> {
    const { from, to, definition } = parseBacktestRequest(body);
    if (definition === undefined) throw new BadRequestException('definition: is required (or backtest a stored trigger with POST /v1/triggers/:id/backtest)');
    return runBacktest(this.store, { workspaceId: principal.workspaceId, definition: validDraft(definition), from, to, version: 1 });
  }

  @Post(':id/backtest')
  @HttpCode(200)
  @ApiOperation({ summary: "Backtest trigger :id over [from, to): a draft of it given as definition, else its stored latest version" })
  @ApiBody({ required: false, schema: backtestBodySchema(false) })
  async backtest(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: unknown): Promise<BacktestReport> {
    const { from, to, definition } = parseBacktestRequest(body);
    let state = initialTriggerState(id);
    for (const e of await this.store.readStream(triggerStreamId(principal.workspaceId, id))) state = evolveTrigger(state, e);
    const stored = latestDefinition(state);
    if (definition === undefined) {
      if (!stored) throw new NotFoundException(`trigger "${id}" not found: give a draft as definition to backtest it before creating it`);
      return runBacktest(this.store, { workspaceId: principal.workspaceId, definition: stored, from, to, version: state.version });
    }
    const draft = validDraft(definition);
    if (draft.id !== id) throw new BadRequestException(`definition.id: expected "${id}" (the trigger in the path), got "${draft.id}"`);
    return runBacktest(this.store, { workspaceId: principal.workspaceId, definition: draft, from, to, version: state.version + 1 });
  }
}
