import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  ForbiddenException,
  Get,
  Headers,
  HttpCode,
  NotFoundException,
  Param,
  Put,
  Query,
  Res,
} from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPreconditionFailedResponse,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { Member, OrganisationState, TeamDefinition } from '@journey/domain';
import { Allow, ApiKeyAuth, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/key-store';
import { parseIfMatch, setETag, VALIDATED_BODY } from '../conversations-api/http';
import { ChangeOrganisationCommand, OrganisationQuery } from './organisation.commands';
import { AvailabilityDto, MEMBER_EXAMPLE, MEMBER_SCHEMA, TEAM_EXAMPLE, TEAM_SCHEMA } from './teams.dto';

interface Response {
  setHeader(name: string, value: string): void;
}

const IF_MATCH = ApiHeader({
  name: 'If-Match',
  required: false,
  description: 'The revision (ETag) of the teams and members the change is based on; 412 if they changed since',
});

/** The body with the path's id filled in; a different id in the body is a 400. */
function withId(body: unknown, field: 'teamId' | 'memberId', id: string): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const given = (body as Record<string, unknown>)[field];
  if (given !== undefined && given !== id)
    throw new BadRequestException(`${field}: the body names ${JSON.stringify(given)}, the path "${id}" (leave it out, or give the same)`);
  return { ...body, [field]: id };
}

const teamView = (team: TeamDefinition) => team;
const memberView = (m: Member) => m;

function team(state: OrganisationState, teamId: string): TeamDefinition {
  const found = state.teams.get(teamId);
  if (!found) throw new NotFoundException(`team "${teamId}" does not exist`);
  return found;
}

function member(state: OrganisationState, memberId: string): Member {
  const found = state.members.get(memberId);
  if (!found) throw new NotFoundException(`member "${memberId}" does not exist`);
  return found;
}

/**
 * The workspace's teams (time zone, business hours, SLA targets by priority, escalation, lead, owner trait), events of
 * its `teams-<workspace>` stream. Admin keys manage them; csm and analyst keys read them. Answers carry
 * `ETag: "<revision>"` (the stream's); writes with `If-Match` get a 412 when it moved on.
 */
@ApiTags('teams')
@ApiKeyAuth('Reading needs an admin, csm or analyst key; changes an admin key')
@Controller('v1/teams')
export class TeamsController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
  ) {}

  @Get()
  @Allow('admin', 'csm', 'analyst')
  @ApiOperation({ summary: "The workspace's teams" })
  @ApiOkResponse({ schema: { example: { teams: [TEAM_EXAMPLE], revision: 4 } } })
  async list(@CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) res: Response) {
    const state = await this.queryBus.execute(new OrganisationQuery(principal.workspaceId));
    setETag(res, state.revision);
    return { teams: [...state.teams.values()].map(teamView), revision: state.revision };
  }

  @Get(':teamId')
  @Allow('admin', 'csm', 'analyst')
  @ApiOperation({ summary: 'A team' })
  @ApiOkResponse({ schema: { example: TEAM_EXAMPLE } })
  @ApiNotFoundResponse({ description: 'No such team' })
  async get(@CurrentPrincipal() principal: Principal, @Param('teamId') teamId: string, @Res({ passthrough: true }) res: Response) {
    const state = await this.queryBus.execute(new OrganisationQuery(principal.workspaceId));
    setETag(res, state.revision);
    return teamView(team(state, teamId));
  }

  @Put(':teamId')
  @Allow('admin')
  @ApiOperation({ summary: 'Define a team, or replace its definition (the same document again changes nothing)' })
  @ApiBody({ schema: { ...TEAM_SCHEMA, example: TEAM_EXAMPLE } })
  @IF_MATCH
  @ApiOkResponse({ schema: { example: TEAM_EXAMPLE } })
  @ApiBadRequestResponse({ description: 'A field is unknown or malformed (the message names it), or the lead is no member' })
  @ApiPreconditionFailedResponse({ description: 'If-Match: the teams and members changed since' })
  @ApiConflictResponse({ description: 'A concurrent change won; read again and retry' })
  async put(
    @CurrentPrincipal() principal: Principal,
    @Param('teamId') teamId: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { state } = await this.commandBus.execute(
      new ChangeOrganisationCommand(
        principal,
        { type: 'DefineTeam', team: withId(body, 'teamId', teamId) },
        parseIfMatch(ifMatch, 'revision'),
      ),
    );
    setETag(res, state.revision);
    return teamView(team(state, teamId));
  }

  @Delete(':teamId')
  @HttpCode(204)
  @Allow('admin')
  @ApiOperation({ summary: 'Remove a team (its members stay, without it)' })
  @IF_MATCH
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiNotFoundResponse({ description: 'No such team' })
  @ApiPreconditionFailedResponse({ description: 'If-Match: the teams and members changed since' })
  async remove(
    @CurrentPrincipal() principal: Principal,
    @Param('teamId') teamId: string,
    @Headers('if-match') ifMatch: string | undefined,
  ) {
    await this.commandBus.execute(
      new ChangeOrganisationCommand(principal, { type: 'RemoveTeam', teamId }, parseIfMatch(ifMatch, 'revision')),
    );
  }
}

/**
 * The workspace's members (name, email, teams, Slack user id, away), events of its `teams-<workspace>` stream. Admin
 * keys manage them; csm and analyst keys read them; a csm key that belongs to a member sets that member's availability.
 */
@ApiTags('teams')
@ApiKeyAuth("Reading needs an admin, csm or analyst key; changes an admin key (availability: also the member's own csm key)")
@Controller('v1/members')
export class MembersController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
  ) {}

  @Get()
  @Allow('admin', 'csm', 'analyst')
  @ApiOperation({ summary: "The workspace's members (of one team with ?team=)" })
  @ApiQuery({ name: 'team', required: false })
  @ApiOkResponse({ schema: { example: { members: [MEMBER_EXAMPLE], revision: 4 } } })
  async list(@CurrentPrincipal() principal: Principal, @Query('team') teamId: unknown, @Res({ passthrough: true }) res: Response) {
    if (teamId !== undefined && typeof teamId !== 'string') throw new BadRequestException('team: must be one team id');
    const state = await this.queryBus.execute(new OrganisationQuery(principal.workspaceId));
    if (teamId !== undefined) team(state, teamId);
    setETag(res, state.revision);
    const members = [...state.members.values()].filter((m) => teamId === undefined || m.teams.includes(teamId));
    return { members: members.map(memberView), revision: state.revision };
  }

  @Get(':memberId')
  @Allow('admin', 'csm', 'analyst')
  @ApiOperation({ summary: 'A member' })
  @ApiOkResponse({ schema: { example: MEMBER_EXAMPLE } })
  @ApiNotFoundResponse({ description: 'No such member' })
  async get(@CurrentPrincipal() principal: Principal, @Param('memberId') memberId: string, @Res({ passthrough: true }) res: Response) {
    const state = await this.queryBus.execute(new OrganisationQuery(principal.workspaceId));
    setETag(res, state.revision);
    return memberView(member(state, memberId));
  }

  @Put(':memberId')
  @Allow('admin')
  @ApiOperation({ summary: 'Define a member, or replace their definition (their availability stays)' })
  @ApiBody({ schema: { ...MEMBER_SCHEMA, example: { name: 'Sam Lee', email: 'sam@example.com', teams: ['support'] } } })
  @IF_MATCH
  @ApiOkResponse({ schema: { example: MEMBER_EXAMPLE } })
  @ApiBadRequestResponse({ description: 'A field is unknown or malformed, or a team does not exist' })
  @ApiPreconditionFailedResponse({ description: 'If-Match: the teams and members changed since' })
  async put(
    @CurrentPrincipal() principal: Principal,
    @Param('memberId') memberId: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { state } = await this.commandBus.execute(
      new ChangeOrganisationCommand(
        principal,
        { type: 'DefineMember', member: withId(body, 'memberId', memberId) },
        parseIfMatch(ifMatch, 'revision'),
      ),
    );
    setETag(res, state.revision);
    return memberView(member(state, memberId));
  }

  @Delete(':memberId')
  @HttpCode(204)
  @Allow('admin')
  @ApiOperation({ summary: 'Remove a member (409 while they lead a team)' })
  @IF_MATCH
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiNotFoundResponse({ description: 'No such member' })
  @ApiConflictResponse({ description: 'The member leads a team: name another lead first' })
  @ApiPreconditionFailedResponse({ description: 'If-Match: the teams and members changed since' })
  async remove(
    @CurrentPrincipal() principal: Principal,
    @Param('memberId') memberId: string,
    @Headers('if-match') ifMatch: string | undefined,
  ) {
    await this.commandBus.execute(
      new ChangeOrganisationCommand(principal, { type: 'RemoveMember', memberId }, parseIfMatch(ifMatch, 'revision')),
    );
  }

  @Put(':memberId/availability')
  @Allow('admin', 'csm')
  @ApiOperation({ summary: "Mark a member away (until a time) or back: admin keys anyone's, a csm key its own member's" })
  @ApiBody({ type: AvailabilityDto })
  @IF_MATCH
  @ApiOkResponse({ schema: { example: { ...MEMBER_EXAMPLE, away: true, awayUntil: '2026-01-12T08:00:00.000Z' } } })
  @ApiNotFoundResponse({ description: 'No such member' })
  @ApiBadRequestResponse({ description: 'away is not a boolean, or until is not an ISO 8601 time' })
  async availability(
    @CurrentPrincipal() principal: Principal,
    @Param('memberId') memberId: string,
    @Body(VALIDATED_BODY) body: AvailabilityDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    // an unknown member is a 404 for every caller; another member's, a 403 for a csm key
    member(await this.queryBus.execute(new OrganisationQuery(principal.workspaceId)), memberId);
    if (principal.role !== 'admin' && principal.memberId !== memberId)
      throw new ForbiddenException(
        principal.memberId === undefined
          ? "this csm key belongs to no member: it cannot set availability (admin keys set anyone's)"
          : `this key belongs to member "${principal.memberId}": it sets only their own availability, not "${memberId}"'s`,
      );
    const { state } = await this.commandBus.execute(
      new ChangeOrganisationCommand(
        principal,
        { type: 'SetAvailability', memberId, away: body.away, ...(body.until !== undefined && { until: body.until }) },
        parseIfMatch(ifMatch, 'revision'),
      ),
    );
    setETag(res, state.revision);
    return memberView(member(state, memberId));
  }
}
