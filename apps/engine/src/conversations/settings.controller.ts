import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Put, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPreconditionFailedResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { SettingsState, WorkspaceSettings } from '@journey/domain';
import { Allow, ApiKeyAuth, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/key-store';
import { actorOf } from '../auth/api-keys';
import { parseIfMatch, setETag } from '../conversations-api/http';
import { SettingsService } from './organisation.service';

interface Response {
  setHeader(name: string, value: string): void;
}

const view = (state: SettingsState): { settings: WorkspaceSettings; secrets: string[]; revision: number } => ({
  settings: state.settings,
  secrets: [...state.secrets.keys()].sort(),
  revision: state.revision,
});

const SETTINGS_EXAMPLE = {
  settings: {
    inApp: { allowedOrigins: ['https://app.example.com'], identitySecret: 'inapp_identity' },
    email: { replyDomain: 'reply.example.com', inboundSecret: 'inbound_mail' },
    slack: { webhookUrl: 'slack_webhook', signingSecret: 'slack_signing' },
    policy: { maxDailyMessagesOnEnable: 1000, period: '7d' },
    quietHours: { start: '21:00', end: '08:00' },
  },
  secrets: ['inapp_identity', 'inbound_mail', 'slack_signing', 'slack_webhook'],
  revision: 5,
};

/**
 * The workspace's settings (in-app origins and identity secret, email reply domain, Slack, change policy, default
 * quiet hours) and its named secrets, for admin keys. Settings name secrets; answers list secret names, never their
 * values. Answers carry `ETag: "<revision>"` (the stream's: settings and secrets); `PUT settings` with `If-Match` gets a
 * 412 when it moved on (without one, the last write wins).
 */
@ApiTags('admin')
@ApiKeyAuth('Not an admin key')
@Controller('v1/admin/workspace')
@Allow('admin')
export class SettingsController {
  constructor(private readonly settings: SettingsService) {}

  @Get('settings')
  @ApiOperation({ summary: "The workspace's settings and the names of its secrets" })
  @ApiOkResponse({ schema: { example: SETTINGS_EXAMPLE } })
  async get(@CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) res: Response) {
    const state = await this.settings.load(principal.workspaceId);
    setETag(res, state.revision);
    return view(state);
  }

  @Put('settings')
  @ApiOperation({ summary: "Replace the workspace's settings (secrets are named, set with PUT secrets/:name)" })
  @ApiBody({ schema: { type: 'object', example: SETTINGS_EXAMPLE.settings } })
  @ApiOkResponse({ schema: { example: SETTINGS_EXAMPLE } })
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'The revision (ETag) of the settings the change is based on; 412 if they (or the secrets) changed since',
  })
  @ApiBadRequestResponse({ description: 'A setting is unknown or malformed (the message names it), or If-Match is no revision' })
  @ApiPreconditionFailedResponse({ description: 'If-Match: the settings or secrets changed since that revision' })
  @ApiConflictResponse({ description: 'A concurrent change won; read again and retry' })
  async put(
    @CurrentPrincipal() principal: Principal,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const revision = parseIfMatch(ifMatch, 'settings revision');
    const { state } = await this.settings.decide(
      principal.workspaceId,
      { type: 'SetSettings', settings: body },
      { by: actorOf(principal), ...(revision !== undefined && { ifMatch: revision }) },
    );
    setETag(res, state.revision);
    return view(state);
  }

  @Put('secrets/:name')
  @HttpCode(204)
  @ApiOperation({ summary: 'Set a named secret ({ "value": "…" }); it is never shown again' })
  @ApiBody({ schema: { type: 'object', required: ['value'], properties: { value: { type: 'string' } } } })
  @ApiNoContentResponse({ description: 'Set' })
  @ApiBadRequestResponse({ description: 'A bad name or value' })
  async setSecret(@CurrentPrincipal() principal: Principal, @Param('name') name: string, @Body() body: unknown): Promise<void> {
    const value = typeof body === 'object' && body !== null ? (body as { value?: unknown }).value : undefined;
    await this.settings.decide(principal.workspaceId, { type: 'SetSecret', name, value }, { by: actorOf(principal) });
  }

  @Delete('secrets/:name')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a named secret' })
  @ApiNoContentResponse({ description: 'Removed (or there was none)' })
  async removeSecret(@CurrentPrincipal() principal: Principal, @Param('name') name: string): Promise<void> {
    await this.settings.decide(principal.workspaceId, { type: 'RemoveSecret', name }, { by: actorOf(principal) });
  }
}
