import { BadRequestException, Body, Controller, Delete, Get, Headers, Param, Put, Query, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiConsumes,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import { parse as parseYaml } from 'yaml';
import { Allow, ApiKeyAuth, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/key-store';
import { YAML_TYPES } from '../triggers/triggers.controller';
import {
  SEGMENT_DOCUMENT_SCHEMA,
  SegmentChangeDto,
  SegmentCountsDto,
  SegmentDetailDto,
  SegmentListDto,
  SegmentMembersDto,
  SegmentValidationErrorDto,
} from './segments.dto';
import { MAX_COUNT_DAYS, MAX_MEMBERS_PAGE, SegmentsService, type SegmentChange } from './segments.service';

interface Response {
  setHeader(name: string, value: string): void;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/** A body as the bootstrap parsed it (JSON as a value, YAML as text), with the id of the path when it names none. */
function document(body: unknown, id: string): unknown {
  let doc = body;
  if (typeof body === 'string') {
    try {
      doc = parseYaml(body);
    } catch (error) {
      throw new BadRequestException({
        statusCode: 400,
        error: 'Bad Request',
        message: `body: not valid YAML: ${(error as Error).message.split('\n')[0]}`,
        errors: ['body: not valid YAML'],
      });
    }
  }
  return typeof doc === 'object' && doc !== null && !Array.isArray(doc) && !('id' in doc) ? { id, ...doc } : doc;
}

/** `If-Match: 3`, `"3"` or `W/"3"`: the segment version the client last read. */
function parseIfMatch(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(value);
  if (!m)
    throw new BadRequestException(
      `If-Match must be the segment version the change is based on, e.g. If-Match: "3"; got ${JSON.stringify(value)}`,
    );
  return Number(m[1]);
}

function parseLimit(value: unknown): number {
  if (value === undefined) return 100;
  if (typeof value !== 'string' || !/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > MAX_MEMBERS_PAGE)
    throw new BadRequestException(`limit: expected a whole number from 1 to ${MAX_MEMBERS_PAGE}, got ${JSON.stringify(value)}`);
  return Number(value);
}

function parseDay(name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !DAY.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)))
    throw new BadRequestException(`${name}: expected a day like "2026-03-01", got ${JSON.stringify(value)}`);
  return new Date(`${value}T00:00:00Z`).toISOString().slice(0, 10) === value
    ? value
    : (() => {
        throw new BadRequestException(`${name}: not a calendar day, got ${JSON.stringify(value)}`);
      })();
}

const etag = (res: Response, change: { version: number }) => res.setHeader('ETag', `"${change.version}"`);

/**
 * Named segments (DESIGN.md "Segments"): definitions as versioned documents on the segment's stream (admin and csm
 * keys), membership and daily counts from the `segment-members` read model (analysts read them too). Membership itself
 * is SegmentEntered / SegmentLeft on each customer's stream, decided by the segment reactor.
 */
@ApiTags('segments')
@ApiKeyAuth()
@Controller('v1/segments')
export class SegmentsController {
  constructor(private readonly segments: SegmentsService) {}

  @Get()
  @Allow('admin', 'csm', 'analyst')
  @ApiOperation({ summary: 'Every segment of the workspace (removed ones aside): id, name, latest version, members now' })
  @ApiOkResponse({ type: SegmentListDto })
  async list(@CurrentPrincipal() principal: Principal) {
    return { segments: await this.segments.list(principal.workspaceId) };
  }

  @Get(':id')
  @Allow('admin', 'csm', 'analyst')
  @ApiOperation({ summary: "A segment's current definition, its versions, members now and the backfill's progress" })
  @ApiOkResponse({ type: SegmentDetailDto })
  @ApiNotFoundResponse({ description: 'Unknown segment' })
  async get(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Res({ passthrough: true }) res: Response) {
    const detail = await this.segments.get(principal.workspaceId, id);
    etag(res, detail);
    return detail;
  }

  @Put(':id')
  @Allow('admin', 'csm')
  @ApiOperation({ summary: 'Define a segment, or a new version of it (the same document again changes nothing)' })
  @ApiConsumes('application/json', ...YAML_TYPES)
  @ApiBody({ description: 'A segment document (JSON, or YAML with Content-Type application/yaml)', schema: SEGMENT_DOCUMENT_SCHEMA })
  @ApiHeader({ name: 'If-Match', required: false, description: 'The version this change is based on (0: not defined yet); 409 otherwise' })
  @ApiOkResponse({ type: SegmentChangeDto })
  @ApiBadRequestResponse({ type: SegmentValidationErrorDto, description: 'Invalid document: every error as `path: expected ...`' })
  @ApiConflictResponse({ description: 'If-Match does not match the current version, or a concurrent change won' })
  async put(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SegmentChange> {
    const change = await this.segments.decideAndAppend(
      principal,
      id,
      { type: 'DefineSegment', definition: document(body, id) },
      parseIfMatch(ifMatch),
    );
    etag(res, change);
    return change;
  }

  @Delete(':id')
  @Allow('admin', 'csm')
  @ApiOperation({ summary: 'Remove a segment: its members leave (reason segment-removed); removing it again changes nothing' })
  @ApiHeader({ name: 'If-Match', required: false, description: 'The version being removed; 409 if the segment is at another one' })
  @ApiOkResponse({ type: SegmentChangeDto })
  @ApiNotFoundResponse({ description: 'Unknown segment' })
  async remove(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<SegmentChange> {
    return this.segments.decideAndAppend(principal, id, { type: 'RemoveSegment' }, parseIfMatch(ifMatch));
  }

  @Get(':id/members')
  @Allow('admin', 'csm', 'analyst')
  @ApiOperation({ summary: "The segment's members now, by customer id, a page at a time, with the total" })
  @ApiQuery({ name: 'limit', required: false, type: Number, description: `1 to ${MAX_MEMBERS_PAGE}, default 100` })
  @ApiQuery({ name: 'cursor', required: false, description: "The previous page's `next`" })
  @ApiOkResponse({ type: SegmentMembersDto })
  @ApiNotFoundResponse({ description: 'Unknown segment' })
  async members(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Query('limit') limit: unknown,
    @Query('cursor') cursor: unknown,
  ) {
    if (cursor !== undefined && typeof cursor !== 'string') throw new BadRequestException('cursor: expected one cursor');
    return this.segments.members(principal.workspaceId, id, parseLimit(limit), cursor);
  }

  @Get(':id/counts')
  @Allow('admin', 'csm', 'analyst')
  @ApiOperation({ summary: 'Per UTC day: customers who entered, who left, and the members at the end of the day' })
  @ApiQuery({ name: 'from', required: false, description: 'First day (YYYY-MM-DD); default 29 days before `to`' })
  @ApiQuery({ name: 'to', required: false, description: 'Last day (YYYY-MM-DD); default today' })
  @ApiOkResponse({ type: SegmentCountsDto })
  @ApiNotFoundResponse({ description: 'Unknown segment' })
  async counts(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query('from') from: unknown, @Query('to') to: unknown) {
    const last = parseDay('to', to, new Date().toISOString().slice(0, 10));
    const first = parseDay('from', from, new Date(Date.parse(`${last}T00:00:00Z`) - 29 * DAY_MS).toISOString().slice(0, 10));
    const days = (Date.parse(`${last}T00:00:00Z`) - Date.parse(`${first}T00:00:00Z`)) / DAY_MS + 1;
    if (days < 1) throw new BadRequestException(`from: expected a day at or before to (${last}), got ${JSON.stringify(first)}`);
    if (days > MAX_COUNT_DAYS) throw new BadRequestException(`from, to: at most ${MAX_COUNT_DAYS} days at a time, got ${days}`);
    return this.segments.counts(principal.workspaceId, id, first, last);
  }
}
