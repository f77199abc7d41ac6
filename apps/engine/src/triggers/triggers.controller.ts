import { BadRequestException, Body, Controller, Get, Headers, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiCreatedResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
  ApiExtraModels,
  ApiUnprocessableEntityResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { parse as parseYaml } from 'yaml';
import { Allow, ApiKeyAuth, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/key-store';
import {
  MessageExplanationDto,
  TRIGGER_DOCUMENT_SCHEMA,
  TriggerAnalyticsDto,
  TriggerChangeDto,
  TriggerDetailDto,
  TriggerImpactDto,
  TriggerListDto,
  TriggerValidationErrorDto,
  TriggerValidationReportDto,
} from './triggers.dto';
import type { TriggerChange } from './triggers.service';
import { DefineTriggerCommand } from './define-trigger.command';
import { UpdateTriggerCommand } from './update-trigger.command';
import { EnableTriggerCommand } from './enable-trigger.command';
import { DisableTriggerCommand } from './disable-trigger.command';
import { ListTriggersQuery } from './list-triggers.query';
import { GetTriggerQuery } from './get-trigger.query';
import { ExplainMessageQuery } from './explain-message.query';
import { TriggerAnalyticsQuery } from './trigger-analytics.query';
import { parseChangeOptions, type TriggerImpact } from './trigger-impact';
import { TRIGGER_VALIDATION } from '@journey/messaging';
import { validateTriggerDocument, type TriggerValidationReport } from './trigger-validation';

/** Content types of trigger documents written as YAML (the bootstrap parses them as text). */
export const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];

interface Response {
  setHeader(name: string, value: string): void;
}

const DOCUMENT_BODY = ApiBody({
  description: 'A trigger document: JSON, or YAML with Content-Type application/yaml or text/yaml (see triggers/library/)',
  schema: TRIGGER_DOCUMENT_SCHEMA,
});

/** `?dryRun=true&from=&to=` and `?force=true` of PUT and enable. */
function DRY_RUN_QUERIES(target: object, key: string | symbol, descriptor: PropertyDescriptor): void {
  for (const decorate of [
    ApiQuery({
      name: 'dryRun',
      required: false,
      type: Boolean,
      description:
        'true: change nothing; answer the impact: the new version backtested beside the live one over [from, to) (default: the policy period, else the last 7 days, up to now)',
    }),
    ApiQuery({ name: 'from', required: false, description: 'dry-run period start (ISO 8601)' }),
    ApiQuery({ name: 'to', required: false, description: 'dry-run period end, exclusive (ISO 8601; default now)' }),
    ApiQuery({
      name: 'samples',
      required: false,
      type: Number,
      description: 'dry-run: sample customer ids per list (0 to 100, default 5)',
    }),
    ApiQuery({
      name: 'force',
      required: false,
      type: Boolean,
      description: 'admin keys: override a refusal by the workspace policy (recorded on the event as policyOverride)',
    }),
  ])
    decorate(target, key, descriptor);
}

const POLICY_REFUSAL = ApiUnprocessableEntityResponse({
  description:
    'Refused by the workspace policy (policy.maxDailyMessagesOnEnable): the message names the dry-run estimate and the limit; an admin can add ?force=true',
});

/** A body as the bootstrap parsed it: JSON arrives as a value, YAML as text. */
function document(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  try {
    return parseYaml(body);
  } catch (error) {
    throw new BadRequestException({
      statusCode: 400,
      error: 'Bad Request',
      message: `body: not valid YAML: ${(error as Error).message.split('\n')[0]}`,
      errors: [`body: not valid YAML`],
    });
  }
}

/** `If-Match: 3`, `"3"` or `W/"3"`: the version the client last read. */
export function parseIfMatch(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(value);
  if (!m)
    throw new BadRequestException(
      `If-Match must be the trigger version the change is based on, e.g. If-Match: "3"; got ${JSON.stringify(value)}`,
    );
  return Number(m[1]);
}

function parseVersion(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[1-9]\d{0,8}$/.test(value))
    throw new BadRequestException(`version must be a positive integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

const etag = (res: Response, change: { version: number }) => res.setHeader('ETag', `"${change.version}"`);

/**
 * Triggers as documents (DESIGN.md "Triggers"): every write goes through the definition decider and is appended to
 * the trigger's stream, so every version stays readable. admin and csm keys write; analysts read (the list, a
 * definition and its versions) as they read the read models and trigger analytics. Responses carry
 * `ETag: "<version>"`; writes with `If-Match: "<version>"` fail with 409 if the trigger moved on.
 */
@ApiTags('triggers')
@ApiKeyAuth()
@ApiExtraModels(TriggerChangeDto, TriggerImpactDto)
@Controller('v1/triggers')
export class TriggersController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
  ) {}

  @Post('validate')
  @HttpCode(200)
  @Allow('admin', 'csm')
  @ApiOperation({
    summary:
      'Validate a trigger document without saving it: every error as deploying would report it, at its line and column in the YAML text',
  })
  @ApiConsumes('application/json', ...YAML_TYPES)
  @DOCUMENT_BODY
  @ApiQuery({
    name: 'id',
    required: false,
    description: 'The trigger being edited: an error when the document names another id (PUT would refuse it)',
  })
  @ApiOkResponse({
    type: TriggerValidationReportDto,
    description: 'Always 200: valid, or every error with its line (YAML bodies; null for JSON bodies, which have no text)',
  })
  validate(@Body() body: unknown, @Query('id') id: unknown): TriggerValidationReport {
    if (id !== undefined && typeof id !== 'string') throw new BadRequestException('id must be a single trigger id');
    return validateTriggerDocument(body, TRIGGER_VALIDATION, id === '' ? undefined : id);
  }

  @Post()
  @Allow('admin', 'csm')
  @ApiOperation({ summary: 'Define a new trigger (version 1, disabled)' })
  @ApiConsumes('application/json', ...YAML_TYPES)
  @DOCUMENT_BODY
  @ApiCreatedResponse({ type: TriggerChangeDto })
  @ApiBadRequestResponse({ type: TriggerValidationErrorDto, description: 'Invalid document: every error as `path: expected ...`' })
  @ApiConflictResponse({ description: 'A trigger with this id exists (PUT adds a version)' })
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
  ): Promise<TriggerChange> {
    const change = await this.commandBus.execute(new DefineTriggerCommand(principal, document(body)));
    etag(res, change);
    return change;
  }

  @Get()
  @Allow('admin', 'csm', 'analyst')
  @ApiOperation({ summary: 'Every trigger of the workspace: id, name, latest version, enabled' })
  @ApiOkResponse({ type: TriggerListDto })
  async list(@CurrentPrincipal() principal: Principal) {
    return this.queryBus.execute(new ListTriggersQuery(principal.workspaceId));
  }

  @Get(':id')
  @Allow('admin', 'csm', 'analyst')
  @ApiOperation({ summary: "A trigger's current definition (or the one of ?version=n) and its versions" })
  @ApiQuery({ name: 'version', required: false, type: Number })
  @ApiOkResponse({ type: TriggerDetailDto })
  @ApiNotFoundResponse({ description: 'Unknown trigger or version' })
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Query('version') version: unknown,
    @Res({ passthrough: true }) res: Response,
  ) {
    const detail = await this.queryBus.execute(new GetTriggerQuery(principal.workspaceId, id, parseVersion(version)));
    etag(res, detail);
    return detail;
  }

  @Put(':id')
  @Allow('admin', 'csm')
  @ApiOperation({ summary: 'A new version of a trigger (the same document again changes nothing)' })
  @ApiConsumes('application/json', ...YAML_TYPES)
  @DOCUMENT_BODY
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'The version this change is based on; 409 if the trigger is at another one',
  })
  @DRY_RUN_QUERIES
  @ApiOkResponse({
    schema: { oneOf: [{ $ref: getSchemaPath(TriggerChangeDto) }, { $ref: getSchemaPath(TriggerImpactDto) }] },
    description: 'The change; with dryRun=true the impact (TriggerImpactDto), nothing changed',
  })
  @ApiBadRequestResponse({ type: TriggerValidationErrorDto })
  @ApiNotFoundResponse({ description: 'Unknown trigger (POST creates one)' })
  @ApiConflictResponse({ description: 'If-Match does not match the current version, or a concurrent change won' })
  @POLICY_REFUSAL
  async update(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Query() query: Record<string, unknown>,
    @Res({ passthrough: true }) res: Response,
  ): Promise<TriggerChange | TriggerImpact> {
    const change = await this.commandBus.execute(
      new UpdateTriggerCommand(principal, id, document(body), parseIfMatch(ifMatch), parseChangeOptions(query)),
    );
    if (!('dryRun' in change)) etag(res, change);
    return change;
  }

  @Post(':id/enable')
  @HttpCode(200)
  @Allow('admin', 'csm')
  @ApiOperation({ summary: 'Enable the latest version' })
  @ApiHeader({ name: 'If-Match', required: false, description: 'The version being enabled; 409 if the trigger is at another one' })
  @DRY_RUN_QUERIES
  @ApiOkResponse({
    schema: { oneOf: [{ $ref: getSchemaPath(TriggerChangeDto) }, { $ref: getSchemaPath(TriggerImpactDto) }] },
    description: 'The change; with dryRun=true the impact (TriggerImpactDto), nothing changed',
  })
  @ApiNotFoundResponse({ description: 'Unknown trigger' })
  @POLICY_REFUSAL
  async enable(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Query() query: Record<string, unknown>,
  ): Promise<TriggerChange | TriggerImpact> {
    return this.commandBus.execute(new EnableTriggerCommand(principal, id, parseIfMatch(ifMatch), parseChangeOptions(query)));
  }

  @Post(':id/disable')
  @HttpCode(200)
  @Allow('admin', 'csm')
  @ApiOperation({ summary: 'Disable the trigger: no new runs; active runs end' })
  @ApiOkResponse({ type: TriggerChangeDto })
  @ApiNotFoundResponse({ description: 'Unknown trigger' })
  async disable(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<TriggerChange> {
    return this.commandBus.execute(new DisableTriggerCommand(principal, id, parseIfMatch(ifMatch)));
  }
}

@ApiTags('triggers')
@ApiKeyAuth()
@Controller('v1')
@Allow('admin', 'csm', 'analyst')
export class TriggerInsightsController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get('messages/:id/explain')
  @ApiOperation({
    summary: 'Why a message was sent or suppressed: causal chain, trigger and template versions, every guard, delivery outcomes',
  })
  @ApiOkResponse({ type: MessageExplanationDto })
  @ApiNotFoundResponse({ description: 'Unknown message (or not projected yet)' })
  async explain(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.queryBus.execute(new ExplainMessageQuery(principal.workspaceId, id));
  }

  @Get('analytics/triggers')
  @ApiOperation({
    summary:
      'Per trigger, version and step: entered, scheduled, suppressed by reason, sent, delivered, opened, clicked, converted; holdout conversion; live vs shadow; lift (treated vs holdout) with 95% intervals, as of a day',
  })
  @ApiQuery({ name: 'triggerId', required: false })
  @ApiQuery({
    name: 'asOf',
    required: false,
    description: 'A UTC day (YYYY-MM-DD): lift (treated vs holdout conversion) as it was at the end of that day',
  })
  @ApiOkResponse({ type: TriggerAnalyticsDto })
  async analytics(@CurrentPrincipal() principal: Principal, @Query('triggerId') triggerId?: unknown, @Query('asOf') asOf?: unknown) {
    if (triggerId !== undefined && typeof triggerId !== 'string') throw new BadRequestException('triggerId must be a single trigger id');
    if (
      asOf !== undefined &&
      (typeof asOf !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(asOf) || Number.isNaN(Date.parse(`${asOf}T00:00:00Z`)))
    )
      throw new BadRequestException(`asOf: expected a UTC day such as 2025-03-31, got ${JSON.stringify(asOf)}`);
    return this.queryBus.execute(new TriggerAnalyticsQuery(principal.workspaceId, triggerId, asOf));
  }
}
