import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { IsDefined, IsIn, IsISO8601, IsNotEmpty, IsObject, IsOptional, IsString, MaxLength, ValidateIf, type ValidationArguments } from 'class-validator';

/**
 * Validation stops at the first failure per field (`stopAtFirstError`) and runs a field's decorators bottom-up, so the
 * type checks sit at the bottom.
 *
 * The Segment Spec calls the engine accepts (https://segment.com/docs/connections/spec/), as class-validator DTOs.
 * Unknown fields (`integrations`, `_metadata`, `sentAt`, ...) are allowed and ignored, as Segment does.
 * The Swagger decorators document the same shapes in /docs.
 */

export const SEGMENT_CALL_TYPES = ['identify', 'track', 'page', 'screen', 'group', 'alias'] as const;
export type SegmentCallType = (typeof SEGMENT_CALL_TYPES)[number];

const ID_MAX = 256;
const hasUserId = (call: { userId?: unknown }) => call.userId !== undefined && call.userId !== null;
const anonymousIdMessage = (problem: string) => (args: ValidationArguments) =>
  hasUserId(args.object) ? `anonymousId ${problem}` : 'userId or anonymousId is required (a non-empty string)';

/** Fields every call may carry. */
export abstract class SegmentCall {
  @ApiPropertyOptional({ enum: SEGMENT_CALL_TYPES, description: 'Required in /v1/batch; on the other endpoints the path gives it' })
  @IsIn(SEGMENT_CALL_TYPES)
  type: SegmentCallType;

  @ApiPropertyOptional({ description: 'Client id of the call, used for dedupe (a resend is a no-op); generated when absent', maxLength: ID_MAX })
  @IsOptional()
  @MaxLength(ID_MAX)
  @IsNotEmpty()
  @IsString()
  messageId?: string;

  @ApiPropertyOptional({ description: 'Event time (ISO 8601); the receive time when absent', example: '2026-01-31T12:00:00.000Z' })
  @IsOptional()
  @IsISO8601({ strict: true })
  timestamp?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  context?: Record<string, unknown>;
}

/** Calls about one customer, known by `userId` or, before sign-up, by `anonymousId`. */
export abstract class CustomerCall extends SegmentCall {
  @ApiPropertyOptional({ description: 'The customer id; required unless anonymousId is given', maxLength: ID_MAX })
  @IsOptional()
  @MaxLength(ID_MAX)
  @IsNotEmpty()
  @IsString()
  userId?: string;

  @ApiPropertyOptional({ description: 'Required when userId is absent', maxLength: ID_MAX })
  @ValidateIf((call: CustomerCall) => !hasUserId(call) || (call.anonymousId !== undefined && call.anonymousId !== null))
  @MaxLength(ID_MAX)
  @IsNotEmpty({ message: anonymousIdMessage('should not be empty') })
  @IsString({ message: anonymousIdMessage('must be a string') })
  anonymousId?: string;
}

export class IdentifyCall extends CustomerCall {
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: { email: 'ada@example.com', plan: 'pro' } })
  @IsOptional()
  @IsObject()
  traits?: Record<string, unknown>;
}

export class TrackCall extends CustomerCall {
  @ApiProperty({ description: 'The action, e.g. "Report Exported"', maxLength: ID_MAX })
  @MaxLength(ID_MAX)
  @IsNotEmpty()
  @IsString()
  event: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  properties?: Record<string, unknown>;
}

/** `page` (web) and `screen` (mobile) calls. */
export class PageCall extends CustomerCall {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  name?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  category?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  properties?: Record<string, unknown>;
}

export class GroupCall extends CustomerCall {
  @ApiProperty({ description: 'The account (company, organisation) the customer belongs to', maxLength: ID_MAX })
  @MaxLength(ID_MAX)
  @IsNotEmpty()
  @IsString()
  groupId: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptional()
  @IsObject()
  traits?: Record<string, unknown>;
}

/** Merges a previous identity (usually the anonymousId) into `userId`. */
export class AliasCall extends SegmentCall {
  @ApiProperty({ description: 'The identity to keep', maxLength: ID_MAX })
  @MaxLength(ID_MAX)
  @IsNotEmpty()
  @IsString()
  @IsDefined()
  userId: string;

  @ApiProperty({ description: 'The identity merged into userId', maxLength: ID_MAX })
  @MaxLength(ID_MAX)
  @IsNotEmpty()
  @IsString()
  @IsDefined()
  previousId: string;
}

export const SEGMENT_CALL_CLASSES = { identify: IdentifyCall, track: TrackCall, page: PageCall, screen: PageCall, group: GroupCall, alias: AliasCall } as const;

/** The `/v1/batch` body, as `@segment/analytics-node` sends it. */
export class SegmentBatch {
  @ApiProperty({ description: 'Calls, each with its "type"', type: 'array', items: { oneOf: [...new Set(Object.values(SEGMENT_CALL_CLASSES))].map((c) => ({ $ref: getSchemaPath(c) })) } })
  batch: SegmentCall[];
}
