import { BadRequestException, Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { BacktestReport } from '@journey/domain';
import { Allow, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/key-store';
import { BacktestTriggerQuery } from './backtest-trigger.query';
import { backtestBodySchema } from '../triggers/triggers.dto';

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** `{ from?, to?, definition? }`: the range [from, to) as ISO 8601 times (to defaults to now) and a draft definition. */
export function parseBacktestRequest(body: unknown): { from?: Date; to?: Date; definition?: unknown } {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body))
    throw new BadRequestException('the body must be a JSON object: { "from"?, "to"?, "definition"? }');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !['from', 'to', 'definition'].includes(k));
  if (unknown.length) throw new BadRequestException(`${unknown[0]}: unknown field; expected from, to, definition`);
  const time = (field: 'from' | 'to') => {
    const v = b[field];
    if (v === undefined) return undefined;
    const ms = typeof v === 'string' && ISO_8601.test(v) ? Date.parse(v) : NaN;
    if (Number.isNaN(ms))
      throw new BadRequestException(
        `${field}: expected an ISO 8601 date or date-time such as 2025-01-31T00:00:00Z, got ${JSON.stringify(v)}`,
      );
    return new Date(ms);
  };
  const from = time('from');
  const to = time('to');
  if (from && to && from >= to) throw new BadRequestException(`from: must be before to (${from.toISOString()} >= ${to.toISOString()})`);
  return { from, to, definition: b.definition };
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
  constructor(private readonly queryBus: QueryBus) {}

  @Post('backtest')
  @HttpCode(200)
  @ApiOperation({ summary: 'Backtest a draft trigger (not stored) over [from, to)' })
  @ApiBody({ schema: backtestBodySchema(true) })
  async backtestDraft(@CurrentPrincipal() principal: Principal, @Body() body: unknown): Promise<BacktestReport> {
    return this.queryBus.execute(new BacktestTriggerQuery(principal.workspaceId, undefined, parseBacktestRequest(body)));
  }

  @Post(':id/backtest')
  @HttpCode(200)
  @ApiOperation({ summary: 'Backtest trigger :id over [from, to): a draft of it given as definition, else its stored latest version' })
  @ApiBody({ required: false, schema: backtestBodySchema(false) })
  async backtest(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: unknown): Promise<BacktestReport> {
    return this.queryBus.execute(new BacktestTriggerQuery(principal.workspaceId, id, parseBacktestRequest(body)));
  }
}
