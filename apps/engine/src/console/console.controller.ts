import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Principal } from '../auth/api-keys';
import { Allow, ApiKeyAuth, CurrentPrincipal } from '../auth/auth.guard';

/** Who a key is: the console signs in with it and shows what the role may do. */
@ApiTags('console')
@ApiKeyAuth()
@Controller('v1/session')
export class SessionController {
  @Get()
  @Allow('admin', 'csm', 'analyst', 'write')
  @ApiOperation({
    summary: "The calling key's workspace, role and member",
    description: 'What the console signs in with: an admin manages keys, teams and settings; a csm works; an analyst reads.',
  })
  @ApiOkResponse({ schema: { example: { workspaceId: 'default', role: 'csm', keyId: 'k_3f9a', memberId: 'ann' } } })
  session(@CurrentPrincipal() principal: Principal) {
    const { workspaceId, role, keyId, memberId } = principal;
    return { workspaceId, role, keyId, ...(memberId === undefined ? {} : { memberId }) };
  }
}
