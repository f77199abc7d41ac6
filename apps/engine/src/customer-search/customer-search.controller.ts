import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { STAGES } from '@journey/domain';
import { Allow, ApiKeyAuth, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/key-store';
import { CustomerSearchQuery } from './customer-search.query';
import { DEFAULT_LIMIT, MAX_COUNT, MAX_LIMIT, parseCustomerSearch } from './search-params';

const PAGE_EXAMPLE = {
  items: [
    {
      customerId: 'ada',
      stage: 'active',
      stageSince: '2026-01-02T09:00:00.000Z',
      traits: { plan: 'pro', seats: 40, renewsAt: '2026-06-01' },
      accounts: ['acme-inc'],
      segments: ['power-users'],
      health: 80,
      firstSeen: '2025-06-01T10:00:00.000Z',
      lastSeen: '2026-01-04T16:20:00.000Z',
    },
  ],
  nextCursor: 'eyJzIjoiaWQ6YXNjIiwidiI6ImFkYSIsImsiOiJhZGEifQ',
  total: 1234,
};

const DESCRIPTION = `Every filter must hold; all of them are served by indexes (docs: deploy/mongodb.md "Customer search", the SQLite
tables in libs/read-models/src/sqlite/sqlite-read-model-store.ts).

**Traits**: \`trait.<name>=<value>\` (equal), \`trait.<name>.gt|gte|lt|lte=<value>\` (ranges; both bounds may be given),
\`trait.<name>.eq=<value>\` (equal, for a trait whose name ends in .gt, .lt, ...). A value is typed by its look, the way
trait values are indexed: a number literal (\`10\`, \`2.5\`) is a number (and a trait holding the string "10" is indexed as
the number 10); an ISO 8601 date or date-time is a time (\`2026-01-01\` = \`2026-01-01T00:00:00Z\`; offsets are converted to
UTC, so ranges over dates compare times); \`true\`/\`false\` match booleans; anything else is a string (ranges compare
strings by code point). A range keeps to its type: \`trait.seats.gte=10\` finds numbers, never strings. Only scalar trait
values (string, number, boolean; strings up to 256 characters) are searchable; objects and arrays are not.

**Order**: \`sort=id\` (default) | \`lastSeen\` | \`health\` | \`trait.<name>\` with \`order=asc|desc\`; ties by id. Sorting
by a trait lists only the customers that have it, numbers before strings. A customer never seen sorts first by lastSeen
ascending.

**Pages**: \`limit\` (1-${MAX_LIMIT}, default ${DEFAULT_LIMIT}); \`nextCursor\` as \`cursor\` gives the next page. The cursor is
the last customer's position in the order (keyset): customers added or changed while paging never shift a page, nothing
is listed twice and nothing that matched throughout is skipped; a customer whose sort value changes between pages is
seen where it is when its page is read. A cursor only pages the order it came from (400 otherwise).

**Total**: only when asked: \`count=true\` (exact; counts every match, so costs what the matches cost) or \`count=<n>\`
(at most n, 1-${MAX_COUNT}: \`totalCapped\` tells whether more match).`;

/** GET /v1/customers?…: search the workspace's customers. */
@ApiTags('customers')
@ApiKeyAuth('Not an admin, csm or analyst key')
@Controller('v1')
@Allow('admin', 'csm', 'analyst')
export class CustomerSearchController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get('customers')
  @ApiOperation({
    summary: 'Search customers by id prefix, traits, stage, segment, last seen and health, sorted and paged',
    description: DESCRIPTION,
  })
  @ApiQuery({ name: 'idPrefix', required: false, description: 'Customer ids starting with this (case-sensitive)' })
  @ApiQuery({
    name: 'stage',
    required: false,
    description: `Comma-separated: ${STAGES.join(', ')}, or none (not identified yet)`,
    example: 'active,renewal',
  })
  @ApiQuery({
    name: 'segment',
    required: false,
    description: 'In this segment now (SegmentEntered, not left since); repeat it for several (all of them)',
    schema: { type: 'array', items: { type: 'string' } },
    style: 'form',
    explode: true,
  })
  @ApiQuery({ name: 'lastSeen.after', required: false, description: 'Last activity after this ISO 8601 time (exclusive)' })
  @ApiQuery({
    name: 'lastSeen.before',
    required: false,
    description: 'Last activity before this ISO 8601 time (exclusive); never seen: no',
  })
  @ApiQuery({ name: 'health.min', required: false, description: 'Health at least (0-100)' })
  @ApiQuery({ name: 'health.max', required: false, description: 'Health at most (0-100)' })
  @ApiQuery({
    name: 'traits',
    required: false,
    description:
      'Trait filters, each its own parameter: `trait.<name>=<value>`, `trait.<name>.<eq|gt|gte|lt|lte>=<value>` (see the description above)',
    schema: { type: 'object', additionalProperties: { type: 'string' }, example: { 'trait.plan': 'pro', 'trait.seats.gte': '10' } },
    style: 'form',
    explode: true,
  })
  @ApiQuery({ name: 'sort', required: false, description: 'id (default), lastSeen, health or trait.<name>' })
  @ApiQuery({ name: 'order', required: false, enum: ['asc', 'desc'], description: 'Default asc' })
  @ApiQuery({ name: 'limit', required: false, description: `1 to ${MAX_LIMIT}, default ${DEFAULT_LIMIT}` })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page (same sort and order)' })
  @ApiQuery({ name: 'count', required: false, description: `true: the exact total; a number n (1-${MAX_COUNT}): count at most n` })
  @ApiOkResponse({ schema: { example: PAGE_EXAMPLE } })
  @ApiBadRequestResponse({ description: 'A bad filter, sort, limit, cursor or count (the message names the parameter)' })
  search(@CurrentPrincipal() principal: Principal, @Query() query: Record<string, unknown>) {
    const { query: search, signature } = parseCustomerSearch(query);
    return this.queryBus.execute(new CustomerSearchQuery(principal.workspaceId, search, signature));
  }
}
