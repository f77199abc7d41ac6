import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ORG_ID } from '@journey/domain';
import { KEY_ROLES, MEMBER_ROLES, type KeyRole, type Principal } from './api-keys';
import { Allow, ApiKeyAuth, CurrentPrincipal } from './auth.guard';
import { CreateKeyCommand } from './create-key.command';
import { ListKeysQuery } from './list-keys.query';
import { RevokeKeyCommand } from './revoke-key.command';
import { RotateKeyCommand } from './rotate-key.command';

const MAX_NAME = 100;
const FIELDS = new Set(['role', 'name', 'memberId']);

/** `{ role, name?, memberId? }`: every problem named by its field. */
export function parseNewKey(body: unknown): { role: KeyRole; name: string; memberId?: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalid([{ path: 'body', message: 'body must be a JSON object { "role": ..., "name": ... }' }]);
  const { role, name, memberId } = body as { role?: unknown; name?: unknown; memberId?: unknown };
  const errors: Array<{ path: string; message: string }> = [];
  for (const field of Object.keys(body)) {
    if (!FIELDS.has(field))
      errors.push({
        path: field,
        message: `${field}: unknown field (keys are created in the workspace of the admin key; fields: role, name, memberId)`,
      });
  }
  if (!(KEY_ROLES as readonly unknown[]).includes(role))
    errors.push({ path: 'role', message: `role must be one of ${KEY_ROLES.join(', ')}, got ${JSON.stringify(role)}` });
  // eslint-disable-next-line no-control-regex -- control characters are what the name may not hold
  if (name !== undefined && (typeof name !== 'string' || name.length > MAX_NAME || /[\u0000-\u001f\u007f]/.test(name))) {
    errors.push({ path: 'name', message: `name must be a string of at most ${MAX_NAME} characters without control characters` });
  }
  if (memberId !== undefined) {
    if (typeof memberId !== 'string' || !ORG_ID.test(memberId))
      errors.push({ path: 'memberId', message: `memberId must be a member id matching ${ORG_ID.source}, got ${JSON.stringify(memberId)}` });
    else if (!MEMBER_ROLES.includes(role as KeyRole))
      errors.push({
        path: 'memberId',
        message: `memberId: only keys of role ${MEMBER_ROLES.join(', ')} belong to a member, not a key of role ${JSON.stringify(role)}`,
      });
  }
  if (errors.length) throw invalid(errors);
  return {
    role: role as KeyRole,
    name: (name as string | undefined) ?? `${role as string} key`,
    ...(memberId !== undefined && { memberId: memberId as string }),
  };
}

function invalid(errors: Array<{ path: string; message: string }>): BadRequestException {
  return new BadRequestException({ statusCode: 400, error: 'Bad Request', message: errors.map((e) => e.message).join('; '), errors });
}

const KEY_VIEW = {
  id: 'key_3f2a…',
  role: 'csm',
  name: 'Sam (CSM)',
  lastFour: 'x9Qe',
  createdAt: '2026-01-01T00:00:00.000Z',
  source: 'api',
  memberId: 'sam',
};

/**
 * The workspace's keys, for its admin keys: create, list, rotate, revoke, without a restart. Answers show a key's
 * plaintext once, when it is created (or rotated); only its hash is kept. Changes are events of the workspace's keys
 * stream, so every process serving the API applies them.
 */
@ApiTags('admin')
@ApiKeyAuth('Not an admin key')
@Controller('v1/admin/keys')
@Allow('admin')
export class KeysController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create a key of the workspace; the answer holds the key, shown this once only' })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['role'],
      properties: {
        role: { type: 'string', enum: [...KEY_ROLES] },
        name: { type: 'string', maxLength: MAX_NAME },
        memberId: {
          type: 'string',
          description: 'csm keys only: the member (PUT /v1/members/:memberId) the key belongs to; what it does is recorded as theirs',
        },
      },
    },
  })
  @ApiCreatedResponse({ schema: { example: { key: 'ck_…', ...KEY_VIEW } } })
  @ApiBadRequestResponse({ description: 'A field is unknown or malformed, or memberId names no member of the workspace' })
  async create(@CurrentPrincipal() principal: Principal, @Body() body: unknown) {
    return this.commandBus.execute(new CreateKeyCommand(principal, parseNewKey(body)));
  }

  @Get()
  @ApiOperation({ summary: "The workspace's keys in force: id, role, name, creation, last four characters (never the key)" })
  @ApiOkResponse({ schema: { example: { keys: [KEY_VIEW] } } })
  async list(@CurrentPrincipal() principal: Principal) {
    return this.queryBus.execute(new ListKeysQuery(principal.workspaceId));
  }

  @Post(':id/rotate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Replace a key by a new one with its role and name (shown this once); the old key stops working' })
  @ApiOkResponse({ schema: { example: { key: 'ck_…', replaces: 'key_…', ...KEY_VIEW } } })
  @ApiNotFoundResponse({ description: 'No key with this id in the workspace' })
  async rotate(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.commandBus.execute(new RotateKeyCommand(principal, id));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a key: it stops working at once' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiNotFoundResponse({ description: 'No key with this id in the workspace' })
  @ApiConflictResponse({ description: 'The last admin key of the workspace cannot be revoked' })
  async revoke(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    await this.commandBus.execute(new RevokeKeyCommand(principal, id));
  }
}
