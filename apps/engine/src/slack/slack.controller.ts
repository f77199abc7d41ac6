import { BadRequestException, Controller, applyDecorators, Headers, HttpCode, Param, Post, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConsumes,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { Allow } from '../auth/auth.guard';
import { SlackService, type SlackAnswer } from './slack.service';

/** The raw body (bootstrap.ts parses /v1/slack/... as bytes: the signature covers exactly them). */
function rawBodyOf(req: { body?: unknown }): Buffer {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}

function utf8(raw: Buffer): string {
  const text = raw.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(raw)) throw new BadRequestException('the request body is not valid UTF-8');
  return text;
}

function parseJson(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BadRequestException(`${what}: not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BadRequestException(`${what}: must be a JSON object`);
  return value as Record<string, unknown>;
}

/** OpenAPI of a Slack-signed endpoint: its headers, the workspace, the 401. */
const SlackSigned = () =>
  applyDecorators(
    ApiHeader({ name: 'X-Slack-Signature', required: true, description: 'v0=<hex HMAC-SHA256 of "v0:<timestamp>:<raw body>">' }),
    ApiHeader({ name: 'X-Slack-Request-Timestamp', required: true, description: 'Unix seconds; at most five minutes from now' }),
    ApiParam({ name: 'workspaceId', description: 'The workspace whose Slack app this is (its settings hold the signing secret)' }),
    ApiUnauthorizedResponse({ description: 'Not signed with the workspace signing secret, or the timestamp is stale' }),
  );

/**
 * Slack's requests to the engine: its Interactivity and Events API request URLs. No key: Slack cannot send one.
 * Public to the key guard (`@Allow()`), every request is authenticated by its Slack signature (v0, the workspace's
 * signing secret, five-minute window) before anything is read from it; a forged or stale one is a 401.
 */
@ApiTags('slack')
@ApiSecurity('slackSignature')
@Controller('v1/slack/:workspaceId')
@Allow()
export class SlackController {
  constructor(private readonly slack: SlackService) {}

  @Post('interactivity')
  @HttpCode(200)
  @ApiOperation({ summary: 'Slack interactivity: the "Take it", "Open" and reply actions of a handoff post' })
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiBody({
    schema: { type: 'object', required: ['payload'], properties: { payload: { type: 'string', description: 'block_actions JSON' } } },
  })
  @ApiOkResponse({
    description: 'Handled; `text` tells the person what went wrong, if anything',
    schema: { example: { text: 'Could not take it: …' } },
  })
  @ApiBadRequestResponse({ description: 'Signed, but no `payload` JSON' })
  @SlackSigned()
  async interactivity(
    @Param('workspaceId') workspaceId: string,
    @Req() req: { body?: unknown },
    @Headers('x-slack-request-timestamp') timestamp?: string,
    @Headers('x-slack-signature') signature?: string,
  ): Promise<SlackAnswer> {
    const rawBody = rawBodyOf(req);
    await this.slack.verify(workspaceId, { rawBody, timestamp, signature });
    const payload = new URLSearchParams(utf8(rawBody)).get('payload');
    if (payload === null) throw new BadRequestException('payload: missing (Slack posts payload=<JSON>, form-encoded)');
    return this.slack.interactivity(workspaceId, parseJson(payload, 'payload'));
  }

  @Post('events')
  @HttpCode(200)
  @ApiOperation({ summary: "Slack Events API: the URL check, and members' replies in a handoff post's thread" })
  @ApiBody({
    schema: { type: 'object', example: { type: 'url_verification', challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' } },
  })
  @ApiOkResponse({ schema: { example: { challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' } } })
  @ApiBadRequestResponse({ description: 'Signed, but not a JSON object' })
  @SlackSigned()
  async events(
    @Param('workspaceId') workspaceId: string,
    @Req() req: { body?: unknown },
    @Headers('x-slack-request-timestamp') timestamp?: string,
    @Headers('x-slack-signature') signature?: string,
  ): Promise<SlackAnswer> {
    const rawBody = rawBodyOf(req);
    await this.slack.verify(workspaceId, { rawBody, timestamp, signature });
    return this.slack.event(workspaceId, parseJson(utf8(rawBody), 'body'));
  }
}
