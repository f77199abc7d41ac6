import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiBody, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Allow, ApiKeyAuth, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/key-store';
import { GetShadowQuery, StartShadowCommand, StopShadowCommand, type TriggerShadow, type TriggerShadowChange } from './shadow.commands';

export class ShadowRequestDto {
  @ApiProperty({ description: 'An existing version of the trigger, to run in shadow', example: 2, minimum: 1 }) version!: number;
}

export class TriggerShadowDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'The latest version (live while enabled)' }) version!: number;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ type: Number, nullable: true, description: 'The version running in shadow, or null' }) shadow!: number | null;
}

export class TriggerShadowChangeDto extends TriggerShadowDto {
  @ApiProperty({ description: 'false when nothing changed (that version already in shadow, no shadow to stop)' }) changed!: boolean;
}

/** `{ version }`: a positive integer. */
export function parseShadowRequest(body: unknown): number {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new BadRequestException('the body must be a JSON object: { "version": <an existing version of the trigger> }');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => k !== 'version');
  if (unknown.length) throw new BadRequestException(`${unknown[0]}: unknown field; expected version`);
  if (typeof b.version !== 'number' || !Number.isInteger(b.version) || b.version < 1)
    throw new BadRequestException(
      `version: expected a positive integer (an existing version of the trigger), got ${JSON.stringify(b.version)}`,
    );
  return b.version;
}

/**
 * Shadow mode (triggers/keyed-and-shadow.md): a version of a trigger decides live on every customer input beside the
 * enabled version, enabled or not, and sends nothing. Its runs are marked `shadow: true`, its sends recorded as
 * MessageShadowed with their guard verdicts; its other effects (set, emit, task, reply, tag, handoff, resolve, webhook)
 * are not executed, only the steps entered recorded. Every start and stop is an event of the trigger's stream.
 */
@ApiTags('triggers')
@ApiKeyAuth()
@Controller('v1/triggers')
@Allow('admin', 'csm')
export class ShadowController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
  ) {}

  @Get(':id/shadow')
  @ApiOperation({ summary: 'The version running in shadow (null: none)' })
  @ApiOkResponse({ type: TriggerShadowDto })
  @ApiNotFoundResponse({ description: 'Unknown trigger' })
  async get(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<TriggerShadow> {
    return this.queryBus.execute(new GetShadowQuery(principal.workspaceId, id));
  }

  @Post(':id/shadow')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Run a version in shadow: it decides live beside the enabled version and sends nothing (replaces the version in shadow)',
  })
  @ApiBody({ type: ShadowRequestDto })
  @ApiOkResponse({ type: TriggerShadowChangeDto })
  @ApiBadRequestResponse({ description: 'No such version of the trigger, or a body that is not { version }' })
  @ApiNotFoundResponse({ description: 'Unknown trigger' })
  async start(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: unknown): Promise<TriggerShadowChange> {
    return this.commandBus.execute(new StartShadowCommand(principal, id, parseShadowRequest(body)));
  }

  @Delete(':id/shadow')
  @HttpCode(200)
  @ApiOperation({ summary: "Stop the shadow: its active runs end (reason 'shadow stopped') on their customer's next input" })
  @ApiOkResponse({ type: TriggerShadowChangeDto })
  @ApiNotFoundResponse({ description: 'Unknown trigger' })
  async stop(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<TriggerShadowChange> {
    return this.commandBus.execute(new StopShadowCommand(principal, id));
  }
}
