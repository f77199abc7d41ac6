import { BadRequestException, Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Allow, ApiKeyAuth, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/key-store';
import { parseAsOf } from '../customers/customers.controller';
import { PreviewAnswerDto, PreviewRequestDto, TestSendAnswerDto, TestSendRequestDto, WHY_NOT_EXAMPLE } from './previews.dto';
import { PreviewsService, type PreviewRequest } from './previews.service';

const FIELDS = new Set(['customerId', 'step', 'version', 'asOf', 'to']);

/** A preview or test-send body, checked field by field (a 400 names the field). */
function previewRequest(body: unknown, test: boolean): PreviewRequest & { to?: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestException('body: must be a JSON object');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !FIELDS.has(k) || (k === 'to' && !test));
  if (unknown.length)
    throw new BadRequestException(
      `${unknown[0]}: not a field of this request (fields: customerId, step, version, asOf${test ? ', to' : ''})`,
    );
  if (typeof b.customerId !== 'string' || b.customerId === '' || b.customerId.length > 256)
    throw new BadRequestException('customerId: required, the id of a customer (a string)');
  const step = b.step;
  if (!(
    (typeof step === 'string' && step.trim() !== '' && step.length <= 256) ||
    (typeof step === 'number' && Number.isInteger(step) && step >= 0)
  ))
    throw new BadRequestException('step: required, a step path (`steps[1]`), a run address (`1.then.0`) or an index');
  if (b.version !== undefined && !(typeof b.version === 'number' && Number.isInteger(b.version) && b.version >= 1))
    throw new BadRequestException(`version: a positive integer, got ${JSON.stringify(b.version)}`);
  const asOf = b.asOf === undefined ? undefined : parseAsOf(b.asOf);
  if (test && (typeof b.to !== 'string' || b.to.trim() === '' || b.to.length > 320))
    throw new BadRequestException('to: required, an email address or a test customer id');
  return {
    customerId: b.customerId,
    step,
    ...(b.version !== undefined ? { version: b.version as number } : {}),
    ...(asOf ? { asOf } : {}),
    ...(test ? { to: b.to as string } : {}),
  };
}

function parseVersion(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[1-9]\d{0,8}$/.test(value))
    throw new BadRequestException(`version: a positive integer, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** Who a test send is recorded as: `http:<role>`, and the key's member when it has one. */
const sentBy = (p: Principal) => `http:${p.role}${p.memberId !== undefined ? `:${p.memberId}` : ''}`;

/**
 * Before sending: a step of any trigger version rendered for a customer as of a moment (preview), sent to a test
 * address (test send), and why a customer did not get a trigger's message (why-not). Preview and why-not read only:
 * analyst, csm and admin keys; a test send sends: csm and admin.
 */
@ApiTags('previews')
@ApiKeyAuth()
@Controller('v1')
export class PreviewsController {
  constructor(private readonly previews: PreviewsService) {}

  @Post('triggers/:id/preview')
  @HttpCode(200)
  @Allow('admin', 'csm', 'analyst')
  @ApiOperation({
    summary:
      'Render a step of a trigger version for a customer as of a moment: subject, body, channel, the guard verdicts it would get, template errors named',
  })
  @ApiOkResponse({ type: PreviewAnswerDto })
  @ApiBadRequestResponse({ description: 'A field is wrong: unknown step or version, a bad asOf' })
  @ApiNotFoundResponse({ description: 'Unknown trigger or customer' })
  preview(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: PreviewRequestDto) {
    return this.previews.preview(principal.workspaceId, id, previewRequest(body, false));
  }

  @Post('triggers/:id/test-send')
  @HttpCode(200)
  @Allow('admin', 'csm')
  @ApiOperation({
    summary:
      'Render a send or reply step as the preview does and send it to a test address: a MessageScheduled marked test (sent by the dispatcher, explainable, never in analytics nor caps); guards reported, not applied',
  })
  @ApiOkResponse({ type: TestSendAnswerDto })
  @ApiBadRequestResponse({ description: 'A field is wrong, the step does not render, or its channel cannot be test-sent (webhook, Slack)' })
  @ApiNotFoundResponse({ description: 'Unknown trigger or customer' })
  testSend(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: TestSendRequestDto) {
    const request = previewRequest(body, true);
    return this.previews.testSend(principal.workspaceId, id, { ...request, to: request.to! }, sentBy(principal));
  }

  @Get('customers/:id/why-not')
  @Allow('admin', 'csm', 'analyst')
  @ApiOperation({
    summary:
      "Why a customer did not get a trigger's message (by asOf): the first condition or guard that kept them out, in words, with the events it looked at; or the message they got",
  })
  @ApiQuery({ name: 'trigger', required: true, description: 'The trigger id' })
  @ApiQuery({ name: 'asOf', required: false, description: 'ISO 8601 time (default now)' })
  @ApiQuery({ name: 'version', required: false, type: Number, description: 'The version evaluated (default: the latest at asOf)' })
  @ApiOkResponse({ schema: { example: WHY_NOT_EXAMPLE } })
  @ApiBadRequestResponse({ description: 'No trigger, a bad asOf or version' })
  @ApiNotFoundResponse({ description: 'Unknown customer or trigger' })
  whyNot(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Query('trigger') trigger: unknown,
    @Query('asOf') asOf: unknown,
    @Query('version') version: unknown,
  ) {
    if (typeof trigger !== 'string' || trigger === '')
      throw new BadRequestException('trigger: required, the id of the trigger (?trigger=<id>)');
    return this.previews.whyNot(principal.workspaceId, id, trigger, { version: parseVersion(version), asOf: parseAsOf(asOf) });
  }
}
