import { Body, Controller, HttpCode, Post, applyDecorators, type Type } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse,
  ApiBasicAuth,
  ApiBody,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { AliasCall, GroupCall, IdentifyCall, PageCall, SegmentBatch, TrackCall, type SegmentCallType } from '@journey/integration';
import { Allow, ApiKeyAuth, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/key-store';
import { RecordSegmentBatchCommand } from './record-segment-batch.command';
import { RecordSegmentCallCommand } from './record-segment-call.command';

const CallEndpoint = (type: SegmentCallType, summary: string, dto: Type<unknown>) =>
  applyDecorators(
    Post(type),
    HttpCode(200),
    ApiOperation({
      summary,
      description: `Segment \`${type}\` call. Answered 200 {"success": true} once the event is durable; a resend with the same messageId is a no-op.`,
    }),
    ApiBody({ type: dto }),
    ApiOkResponse({ description: 'Stored durably', schema: { example: { success: true } } }),
    ApiBadRequestResponse({
      description: 'Invalid call; `message` and `errors[].path` name the fields',
      schema: {
        example: {
          statusCode: 400,
          error: 'Bad Request',
          message: 'event must be a string',
          errors: [{ path: 'event', message: 'event must be a string' }],
        },
      },
    }),
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
@ApiKeyAuth('The key is not a write key')
@ApiExtraModels(IdentifyCall, TrackCall, PageCall, GroupCall, AliasCall)
@ApiServiceUnavailableResponse({
  description: 'The engine is shutting down, or its storage is full (Retry-After); nothing was stored, retry',
})
@Allow('write')
@Controller('v1')
export class IngestionController {
  constructor(private readonly commandBus: CommandBus) {}

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

  @CallEndpoint(
    'alias',
    'Merge a previous identity into a user id (IdentitiesMerged): its history is copied to the user, its later calls go there; ' +
      '400 when previousId is userId, is merged into another customer already, or has ids merged into it',
    AliasCall,
  )
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
  @ApiOkResponse({
    description: 'The valid calls are stored durably',
    schema: {
      example: { success: true, accepted: 2, rejected: [{ index: 1, errors: [{ path: 'event', message: 'event must be a string' }] }] },
    },
  })
  @ApiBadRequestResponse({
    description: 'Not a batch, or no valid call in it; `message` names the calls and fields',
    schema: {
      example: {
        statusCode: 400,
        error: 'Bad Request',
        message: 'no valid call in the batch: batch[0]: userId or anonymousId is required (a non-empty string)',
        rejected: [],
      },
    },
  })
  batch(@Body() body: unknown, @CurrentPrincipal() principal: Principal) {
    return this.commandBus.execute(new RecordSegmentBatchCommand(principal.workspaceId, body));
  }

  private single(type: SegmentCallType, body: unknown, principal: Principal) {
    return this.commandBus.execute(new RecordSegmentCallCommand(principal.workspaceId, type, body));
  }
}
