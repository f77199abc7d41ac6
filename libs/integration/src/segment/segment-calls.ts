import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { IsDefined, IsIn, IsNotEmpty, IsObject, IsOptional, IsString, MaxLength, ValidateBy, ValidateIf, type ValidationArguments } from 'class-validator';
import { INGESTION_LIMITS, describeValue, jsonValueProblem, parseDateTime } from './input-rules';

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

const ID_MAX = INGESTION_LIMITS.idLength;
const NAME_MAX = INGESTION_LIMITS.nameLength;
const hasUserId = (call: { userId?: unknown }) => call.userId !== undefined && call.userId !== null;
const anonymousIdMessage = (problem: string) => (args: ValidationArguments) =>
  hasUserId(args.object) ? `anonymousId ${problem}` : 'userId or anonymousId is required (a non-empty string)';

/** A string with no lone surrogate (it could not be stored, hashed into an id or sent on as UTF-8 unchanged). */
const IsWellFormed = () =>
  ValidateBy({
    name: 'isWellFormed',
    validator: { validate: (value) => typeof value === 'string' && value.isWellFormed(), defaultMessage: (args) => `${args?.property} must be well-formed UTF-16 (no lone surrogate)` },
  });

/** A free-form JSON object within the ingestion limits (nesting, sizes, well-formed keys and strings, finite numbers). */
const IsJsonObject = () =>
  ValidateBy({
    name: 'isJsonObject',
    validator: { validate: (value, args) => jsonValueProblem(value, args!.property) === undefined, defaultMessage: (args) => jsonValueProblem(args!.value, args!.property) ?? '' },
  });

/** An RFC 3339 date-time in years 1970..9999 (see parseDateTime). */
const IsDateTime = () =>
  ValidateBy({
    name: 'isDateTime',
    validator: {
      validate: (value) => typeof value === 'string' && parseDateTime(value) !== undefined,
      defaultMessage: (args) =>
        `${args?.property} must be a valid ISO 8601 date string: an RFC 3339 date-time with seconds and a time zone, such as 2026-01-31T12:00:00.000Z, ` +
        `from 1970 to 9999; got ${describeValue(args?.value)}`,
    },
  });

const FREE_FORM = `Any JSON object within the ingestion limits: nested at most ${INGESTION_LIMITS.depth} levels, at most ${INGESTION_LIMITS.keys} keys of at most ${INGESTION_LIMITS.keyLength} characters per object, ${INGESTION_LIMITS.items} items per array, strings of at most ${INGESTION_LIMITS.stringLength} characters, well-formed UTF-16, finite numbers`;

/** Fields every call may carry. */
export abstract class SegmentCall {
  @ApiPropertyOptional({ enum: SEGMENT_CALL_TYPES, description: 'Required in /v1/batch; on the other endpoints the path gives it' })
  @IsIn(SEGMENT_CALL_TYPES)
  type: SegmentCallType;

  @ApiPropertyOptional({ description: 'Client id of the call, used for dedupe (a resend is a no-op); generated when absent', maxLength: ID_MAX })
  @IsOptional()
  @IsWellFormed()
  @MaxLength(ID_MAX)
  @IsNotEmpty()
  @IsString()
  messageId?: string;

  @ApiPropertyOptional({ description: 'Event time: an RFC 3339 date-time with a time zone, 1970 to 9999; the receive time when absent', format: 'date-time', example: '2026-01-31T12:00:00.000Z' })
  @IsOptional()
  @IsDateTime()
  timestamp?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: FREE_FORM })
  @IsOptional()
  @IsJsonObject()
  @IsObject()
  context?: Record<string, unknown>;
}

/** Calls about one customer, known by `userId` or, before sign-up, by `anonymousId`. */
export abstract class CustomerCall extends SegmentCall {
  @ApiPropertyOptional({ description: 'The customer id; required unless anonymousId is given', maxLength: ID_MAX })
  @IsOptional()
  @IsWellFormed()
  @MaxLength(ID_MAX)
  @IsNotEmpty()
  @IsString()
  userId?: string;

  @ApiPropertyOptional({ description: 'Required when userId is absent', maxLength: ID_MAX })
  @ValidateIf((call: CustomerCall) => !hasUserId(call) || (call.anonymousId !== undefined && call.anonymousId !== null))
  @IsWellFormed()
  @MaxLength(ID_MAX)
  @IsNotEmpty({ message: anonymousIdMessage('should not be empty') })
  @IsString({ message: anonymousIdMessage('must be a string') })
  anonymousId?: string;
}

export class IdentifyCall extends CustomerCall {
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: FREE_FORM, example: { email: 'ada@example.com', plan: 'pro' } })
  @IsOptional()
  @IsJsonObject()
  @IsObject()
  traits?: Record<string, unknown>;
}

export class TrackCall extends CustomerCall {
  @ApiProperty({ description: 'The action, e.g. "Report Exported"', maxLength: ID_MAX })
  @IsWellFormed()
  @MaxLength(ID_MAX)
  @IsNotEmpty()
  @IsString()
  event: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: FREE_FORM })
  @IsOptional()
  @IsJsonObject()
  @IsObject()
  properties?: Record<string, unknown>;
}

/** `page` (web) and `screen` (mobile) calls. */
export class PageCall extends CustomerCall {
  @ApiPropertyOptional({ maxLength: NAME_MAX })
  @IsOptional()
  @IsWellFormed()
  @MaxLength(NAME_MAX)
  @IsString()
  name?: string;

  @ApiPropertyOptional({ maxLength: NAME_MAX })
  @IsOptional()
  @IsWellFormed()
  @MaxLength(NAME_MAX)
  @IsString()
  category?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: FREE_FORM })
  @IsOptional()
  @IsJsonObject()
  @IsObject()
  properties?: Record<string, unknown>;
}

export class GroupCall extends CustomerCall {
  @ApiProperty({ description: 'The account (company, organisation) the customer belongs to', maxLength: ID_MAX })
  @IsWellFormed()
  @MaxLength(ID_MAX)
  @IsNotEmpty()
  @IsString()
  groupId: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: FREE_FORM })
  @IsOptional()
  @IsJsonObject()
  @IsObject()
  traits?: Record<string, unknown>;
}

/** Merges a previous identity (usually the anonymousId) into `userId`. */
export class AliasCall extends SegmentCall {
  @ApiProperty({ description: 'The identity to keep', maxLength: ID_MAX })
  @IsWellFormed()
  @MaxLength(ID_MAX)
  @IsNotEmpty()
  @IsString()
  @IsDefined()
  userId: string;

  @ApiProperty({ description: 'The identity merged into userId', maxLength: ID_MAX })
  @IsWellFormed()
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
