import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { SettingsState, WorkspaceSettings } from '@journey/domain';
import { Allow, ApiKeyAuth, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/key-store';
import { actorOf } from '../auth/api-keys';
import { SettingsService } from './organisation.service';

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
  },
  secrets: ['inapp_identity', 'inbound_mail', 'slack_signing', 'slack_webhook'],
  revision: 5,
};

/**
 * The workspace's settings (in-app origins and identity secret, email reply domain, Slack) and its named secrets, for
 * admin keys. Settings name secrets; answers list secret names, never their values.
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
  async get(@CurrentPrincipal() principal: Principal) {
    return view(await this.settings.load(principal.workspaceId));
  }

  @Put('settings')
  @ApiOperation({ summary: "Replace the workspace's settings (secrets are named, set with PUT secrets/:name)" })
  @ApiBody({ schema: { type: 'object', example: SETTINGS_EXAMPLE.settings } })
  @ApiOkResponse({ schema: { example: SETTINGS_EXAMPLE } })
  @ApiBadRequestResponse({ description: 'A setting is unknown or malformed (the message names it)' })
  async put(@CurrentPrincipal() principal: Principal, @Body() body: unknown) {
    const { state } = await this.settings.decide(
      principal.workspaceId,
      { type: 'SetSettings', settings: body },
      { by: actorOf(principal) },
    );
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
