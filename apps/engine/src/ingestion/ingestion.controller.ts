import { BadRequestException, Body, Controller, HttpCode, Post, applyDecorators, type Type } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBasicAuth,
  ApiBearerAuth,
  ApiBody,
  ApiExtraModels,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import {
  AliasCall,
  GroupCall,
  IdentifyCall,
  PageCall,
  SegmentBatch,
  TrackCall,
  parseSegmentBatch,
  parseSegmentCall,
  type FieldError,
  type SegmentCallType,
} from '@journey/integration';
import type { JourneyEvent } from '@journey/domain';
import { Allow, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/key-store';
import { Metrics } from '../operations/metrics';
import { IngestionService } from './ingestion.service';

const SOURCE = 'http';
const MAX_LISTED_ERRORS = 10;

const CallEndpoint = (type: SegmentCallType, summary: string, dto: Type<unknown>) =>
  applyDecorators(
    Post(type),
    HttpCode(200),
    ApiOperation({ summary, description: `Segment \`${type}\` call. Answered 200 {"success": true} once the event is durable; a resend with the same messageId is a no-op.` }),
    ApiBody({ type: dto }),
    ApiOkResponse({ description: 'Stored durably', schema: { example: { success: true } } }),
    ApiBadRequestResponse({ description: 'Invalid call; `message` and `errors[].path` name the fields', schema: { example: { statusCode: 400, error: 'Bad Request', message: 'event must be a string', errors: [{ path: 'event', message: 'event must be a string' }] } } }),
  );

/**
 * Segment-compatible ingestion (DESIGN.md "Ingestion"): existing Segment / RudderStack SDKs work by pointing their host
 * here. The workspace comes from the write key.
 *
 * Limits, as Segment's HTTP API: a request body of at most 500 KB (larger: 413); no separate cap on the number of calls
 * in a batch, since the body limit already bounds a request's transaction.
 */
@ApiTags('ingestion')
@ApiBasicAuth('writeKey')
@ApiBearerAuth('key')
@ApiExtraModels(IdentifyCall, TrackCall, PageCall, GroupCall, AliasCall)
@ApiUnauthorizedResponse({ description: 'No key or an unknown key' })
@ApiForbiddenResponse({ description: 'The key is not a write key' })
@ApiServiceUnavailableResponse({ description: 'The engine is shutting down, or its storage is full (Retry-After); nothing was stored, retry' })
@Allow('write')
@Controller('v1')
export class IngestionController {
  constructor(
    private readonly ingestion: IngestionService,
    private readonly metrics: Metrics,
  ) {}

  @CallEndpoint('identify', 'Identify a customer and record their traits (CustomerIdentified)', IdentifyCall)
  identify(@Body() body: unknown, @CurrentPrincipal() principal: Principal) {
    return this.single('identify', body, principal);
  }

  @CallEndpoint('track', 'Record an action of a customer (InteractionRecorded)', TrackCall)
  track(@Body() body: unknown, @CurrentPrincipal() principal: Principal) {
    return this.single('track', body, principal);
  }

  @CallEndpoint('page', 'Record a page view (PageViewed)', PageCall)
  page(@Body() body: unknown, @CurrentPrincipal() principal: Principal) {
    return this.single('page', body, principal);
  }

  @CallEndpoint('screen', 'Record a mobile screen view (PageViewed)', PageCall)
  screen(@Body() body: unknown, @CurrentPrincipal() principal: Principal) {
    return this.single('screen', body, principal);
  }

  @CallEndpoint('group', 'Link a customer to an account (AccountLinked)', GroupCall)
  group(@Body() body: unknown, @CurrentPrincipal() principal: Principal) {
    return this.single('group', body, principal);
  }

  @CallEndpoint('alias', 'Merge a previous identity into a user id (IdentitiesMerged)', AliasCall)
  alias(@Body() body: unknown, @CurrentPrincipal() principal: Principal) {
    return this.single('alias', body, principal);
  }

  @Post('batch')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Several calls in one request (what @segment/analytics-node sends)',
    description:
      'Each call carries its `type`. As Segment does, valid calls are stored and invalid ones rejected: the answer is 200 ' +
      '{"success": true, "accepted": n, "rejected": [{"index", "errors"}]} when at least one call is valid (after all valid ' +
      'ones are durable), and 400 when none is. Resent calls (same messageId) are accepted and stored once.',
  })
  @ApiBody({ type: SegmentBatch })
  @ApiOkResponse({ description: 'The valid calls are stored durably', schema: { example: { success: true, accepted: 2, rejected: [{ index: 1, errors: [{ path: 'event', message: 'event must be a string' }] }] } } })
  @ApiBadRequestResponse({ description: 'Not a batch, or no valid call in it; `message` names the calls and fields', schema: { example: { statusCode: 400, error: 'Bad Request', message: 'no valid call in the batch: batch[0]: userId or anonymousId is required (a non-empty string)', rejected: [] } } })
  async batch(@Body() body: unknown, @CurrentPrincipal() principal: Principal) {
    const result = parseSegmentBatch(body, this.context(principal));
    if (!result.ok) throw this.rejection(result.errors.map((e) => e.message).join('; '), { errors: result.errors });
    if (result.accepted === 0) {
      const listed = result.rejected.flatMap(({ index, errors }) => errors.map((e) => `batch[${index}]: ${e.message}`));
      throw this.rejection(`no valid call in the batch: ${summarise(listed)}`, { rejected: result.rejected });
    }
    await this.store(principal, result.events, result.rejected.length > 0 ? 'partial' : 'accepted');
    return { success: true, accepted: result.accepted, rejected: result.rejected };
  }

  private async single(type: SegmentCallType, body: unknown, principal: Principal) {
    const result = parseSegmentCall(body, this.context(principal), { type });
    if (!result.ok) throw this.rejection(summarise(result.errors.map((e) => e.message)), { errors: result.errors });
    await this.store(principal, result.events, 'accepted');
    return { success: true };
  }

  private context(principal: Principal) {
    return { workspaceId: principal.workspaceId, receivedAt: new Date().toISOString(), source: SOURCE };
  }

  private async store(principal: Principal, events: JourneyEvent[], outcome: 'accepted' | 'partial') {
    try {
      await this.ingestion.record(principal.workspaceId, events, SOURCE);
    } catch (error) {
      this.metrics.ingestRequests.inc({ outcome: 'failed' });
      throw error;
    }
    this.metrics.ingestRequests.inc({ outcome });
  }

  private rejection(message: string, details: { errors?: FieldError[]; rejected?: unknown[] }): BadRequestException {
    this.metrics.ingestRequests.inc({ outcome: 'rejected' });
    return new BadRequestException({ statusCode: 400, error: 'Bad Request', message, ...details });
  }
}

function summarise(messages: string[]): string {
  const more = messages.length - MAX_LISTED_ERRORS;
  return messages.slice(0, MAX_LISTED_ERRORS).join('; ') + (more > 0 ? `; and ${more} more` : '');
}
