import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import {
  ValidateBy,
  ValidateIf,
  isDefined,
  isIn,
  isNotEmpty,
  isObject,
  isString,
  maxLength,
  type ValidationArguments,
} from 'class-validator';
import { INGESTION_LIMITS, describeValue, jsonValueProblem, parseDateTime } from './input-rules';

/**
 * The Segment Spec calls the engine accepts (https://segment.com/docs/connections/spec/), as class-validator DTOs.
 * Unknown fields (`integrations`, `_metadata`, `sentAt`, ...) are allowed and ignored, as Segment does.
 * The Swagger decorators document the same shapes in /docs.
 *
 * The validation rules are written once, as data (`SEGMENT_CALL_RULES`): `applyRules` turns them into the DTOs'
 * class-validator decorators (`ValidateIf`, `ValidateBy`), so `validateSync` writes the error messages, and the
 * ingestion hot path runs the same tests directly (compiled-validator.ts). Validation stops at the first failure per
 * field (`stopAtFirstError`), so a field's checks are listed in the order they run: the type checks first.
 */

export const SEGMENT_CALL_TYPES = ['identify', 'track', 'page', 'screen', 'group', 'alias'] as const;
export type SegmentCallType = (typeof SEGMENT_CALL_TYPES)[number];

/** One check of a field: class-validator's public predicate (or ours) and the message when it fails. */
export interface FieldCheck {
  name: string;
  test: (value: unknown, call: object) => boolean;
  message: (args: ValidationArguments) => string;
}

/** A field is validated only `when` it holds (default: always), by its checks in order; the first failure is reported. */
export interface FieldRule {
  when?: (call: object, value: unknown) => boolean;
  checks: readonly FieldCheck[];
}

export type CallRules = Readonly<Record<string, FieldRule>>;

const ID_MAX = INGESTION_LIMITS.idLength;
const NAME_MAX = INGESTION_LIMITS.nameLength;
const hasUserId = (call: { userId?: unknown }) => call.userId !== undefined && call.userId !== null;
const anonymousIdMessage = (problem: string) => (args: ValidationArguments) =>
  hasUserId(args.object) ? `anonymousId ${problem}` : 'userId or anonymousId is required (a non-empty string)';

// class-validator's predicates with the messages of its decorators (IsString, IsNotEmpty, MaxLength, IsIn, ...).
const IS_STRING = (message = (args: ValidationArguments) => `${args.property} must be a string`): FieldCheck => ({
  name: 'isString',
  test: isString,
  message,
});
const IS_NOT_EMPTY = (message = (args: ValidationArguments) => `${args.property} should not be empty`): FieldCheck => ({
  name: 'isNotEmpty',
  test: isNotEmpty,
  message,
});
const MAX_LENGTH = (max: number): FieldCheck => ({
  name: 'maxLength',
  test: (value) => maxLength(value, max),
  message: (args) => `${args.property} must be shorter than or equal to ${max} characters`,
});
const IS_DEFINED: FieldCheck = {
  name: 'isDefined',
  test: isDefined,
  message: (args) => `${args.property} should not be null or undefined`,
};
const IS_OBJECT: FieldCheck = {
  name: 'isObject',
  test: (value) => isObject(value),
  message: (args) => `${args.property} must be an object`,
};
const IS_CALL_TYPE: FieldCheck = {
  name: 'isIn',
  test: (value) => isIn(value, SEGMENT_CALL_TYPES as unknown as unknown[]),
  message: (args) => `${args.property} must be one of the following values: ${SEGMENT_CALL_TYPES.join(', ')}`,
};

/** A string with no lone surrogate (it could not be stored, hashed into an id or sent on as UTF-8 unchanged). */
const IS_WELL_FORMED: FieldCheck = {
  name: 'isWellFormed',
  test: (value) => typeof value === 'string' && value.isWellFormed(),
  message: (args) => `${args.property} must be well-formed UTF-16 (no lone surrogate)`,
};

/** A free-form JSON object within the ingestion limits (nesting, sizes, well-formed keys and strings, finite numbers). */
const IS_JSON_OBJECT = (property: string): FieldCheck => ({
  name: 'isJsonObject',
  test: (value) => jsonValueProblem(value, property) === undefined,
  message: (args) => jsonValueProblem(args.value, args.property) ?? '',
});

/** An RFC 3339 date-time in years 1970..9999 (see parseDateTime). */
const IS_DATE_TIME: FieldCheck = {
  name: 'isDateTime',
  test: (value) => typeof value === 'string' && parseDateTime(value) !== undefined,
  message: (args) =>
    `${args.property} must be a valid ISO 8601 date string: an RFC 3339 date-time with seconds and a time zone, such as 2026-01-31T12:00:00.000Z, ` +
    `from 1970 to 9999; got ${describeValue(args.value)}`,
};

/** `IsOptional`: absent (undefined or null) fields are not validated. */
const present = (_call: object, value: unknown) => value !== undefined && value !== null;
const ID: FieldRule = { checks: [IS_STRING(), IS_NOT_EMPTY(), MAX_LENGTH(ID_MAX), IS_WELL_FORMED] };
const OPTIONAL_ID: FieldRule = { when: present, checks: ID.checks };
const OPTIONAL_NAME: FieldRule = { when: present, checks: [IS_STRING(), MAX_LENGTH(NAME_MAX), IS_WELL_FORMED] };
const optionalJsonObject = (property: string): FieldRule => ({ when: present, checks: [IS_OBJECT, IS_JSON_OBJECT(property)] });

/** Fields every call may carry. */
const CALL_RULES: CallRules = {
  type: { checks: [IS_CALL_TYPE] },
  messageId: OPTIONAL_ID,
  timestamp: { when: present, checks: [IS_DATE_TIME] },
  context: optionalJsonObject('context'),
};

/** Calls about one customer: `userId`, or `anonymousId` when there is no userId. */
const CUSTOMER_RULES: CallRules = {
  ...CALL_RULES,
  userId: OPTIONAL_ID,
  anonymousId: {
    when: (call: { userId?: unknown; anonymousId?: unknown }) =>
      !hasUserId(call) || (call.anonymousId !== undefined && call.anonymousId !== null),
    checks: [
      IS_STRING(anonymousIdMessage('must be a string')),
      IS_NOT_EMPTY(anonymousIdMessage('should not be empty')),
      MAX_LENGTH(ID_MAX),
      IS_WELL_FORMED,
    ],
  },
};

// Each class's own fields first, then the inherited ones: the order class-validator reports them in.
const PAGE_RULES: CallRules = {
  name: OPTIONAL_NAME,
  category: OPTIONAL_NAME,
  properties: optionalJsonObject('properties'),
  ...CUSTOMER_RULES,
};

export const SEGMENT_CALL_RULES: Readonly<Record<SegmentCallType, CallRules>> = {
  identify: { traits: optionalJsonObject('traits'), ...CUSTOMER_RULES },
  track: { event: ID, properties: optionalJsonObject('properties'), ...CUSTOMER_RULES },
  page: PAGE_RULES,
  screen: PAGE_RULES,
  group: { groupId: ID, traits: optionalJsonObject('traits'), ...CUSTOMER_RULES },
  alias: { userId: { checks: [IS_DEFINED, ...ID.checks] }, previousId: { checks: [IS_DEFINED, ...ID.checks] }, ...CALL_RULES },
};

/** Declares the rules as class-validator decorators of `cls` (what `@ValidateIf(...) @ValidateBy(...)` on each field would). */
function applyRules(cls: abstract new () => object, rules: CallRules): void {
  for (const [property, rule] of Object.entries(rules)) {
    if (rule.when) ValidateIf(rule.when)(cls.prototype, property);
    for (const check of rule.checks) {
      ValidateBy({
        name: check.name,
        validator: { validate: (value, args) => check.test(value, args!.object), defaultMessage: (args) => check.message(args!) },
      })(cls.prototype, property);
    }
  }
}

const FREE_FORM = `Any JSON object within the ingestion limits: nested at most ${INGESTION_LIMITS.depth} levels, at most ${INGESTION_LIMITS.keys} keys of at most ${INGESTION_LIMITS.keyLength} characters per object, ${INGESTION_LIMITS.items} items per array, strings of at most ${INGESTION_LIMITS.stringLength} characters, well-formed UTF-16, finite numbers`;

/** Fields every call may carry. */
export abstract class SegmentCall {
  @ApiPropertyOptional({ enum: SEGMENT_CALL_TYPES, description: 'Required in /v1/batch; on the other endpoints the path gives it' })
  type: SegmentCallType;

  @ApiPropertyOptional({
    description: 'Client id of the call, used for dedupe (a resend is a no-op); generated when absent',
    maxLength: ID_MAX,
  })
  messageId?: string;

  @ApiPropertyOptional({
    description: 'Event time: an RFC 3339 date-time with a time zone, 1970 to 9999; the receive time when absent',
    format: 'date-time',
    example: '2026-01-31T12:00:00.000Z',
  })
  timestamp?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: FREE_FORM })
  context?: Record<string, unknown>;
}

/** Calls about one customer, known by `userId` or, before sign-up, by `anonymousId`. */
export abstract class CustomerCall extends SegmentCall {
  @ApiPropertyOptional({ description: 'The customer id; required unless anonymousId is given', maxLength: ID_MAX })
  userId?: string;

  @ApiPropertyOptional({ description: 'Required when userId is absent', maxLength: ID_MAX })
  anonymousId?: string;
}

export class IdentifyCall extends CustomerCall {
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: FREE_FORM,
    example: { email: 'ada@example.com', plan: 'pro' },
  })
  traits?: Record<string, unknown>;
}

export class TrackCall extends CustomerCall {
  @ApiProperty({ description: 'The action, e.g. "Report Exported"', maxLength: ID_MAX })
  event: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: FREE_FORM })
  properties?: Record<string, unknown>;
}

/** `page` (web) and `screen` (mobile) calls. */
export class PageCall extends CustomerCall {
  @ApiPropertyOptional({ maxLength: NAME_MAX })
  name?: string;

  @ApiPropertyOptional({ maxLength: NAME_MAX })
  category?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: FREE_FORM })
  properties?: Record<string, unknown>;
}

export class GroupCall extends CustomerCall {
  @ApiProperty({ description: 'The account (company, organisation) the customer belongs to', maxLength: ID_MAX })
  groupId: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: FREE_FORM })
  traits?: Record<string, unknown>;
}

/** Merges a previous identity (usually the anonymousId) into `userId`. */
export class AliasCall extends SegmentCall {
  @ApiProperty({ description: 'The identity to keep', maxLength: ID_MAX })
  userId: string;

  @ApiProperty({ description: 'The identity merged into userId', maxLength: ID_MAX })
  previousId: string;
}

export const SEGMENT_CALL_CLASSES = {
  identify: IdentifyCall,
  track: TrackCall,
  page: PageCall,
  screen: PageCall,
  group: GroupCall,
  alias: AliasCall,
} as const;
for (const type of SEGMENT_CALL_TYPES) if (type !== 'screen') applyRules(SEGMENT_CALL_CLASSES[type], SEGMENT_CALL_RULES[type]);

/** The `/v1/batch` body, as `@segment/analytics-node` sends it. */
export class SegmentBatch {
  @ApiProperty({
    description: 'Calls, each with its "type"',
    type: 'array',
    items: { oneOf: [...new Set(Object.values(SEGMENT_CALL_CLASSES))].map((c) => ({ $ref: getSchemaPath(c) })) },
  })
  batch: SegmentCall[];
}
