import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** What the trigger endpoints answer (OpenAPI shapes; the documents themselves are validated by the trigger language). */
export class TriggerSummaryDto {
  @ApiProperty({ example: 'onboarding-activation-nudge' }) id!: string;
  @ApiProperty({ example: 'Activation nudge' }) name!: string;
  @ApiProperty({ example: 2, description: 'Latest version' }) version!: number;
  @ApiProperty() enabled!: boolean;
}

export class TriggerChangeDto extends TriggerSummaryDto {
  @ApiProperty({ description: 'false when the command changed nothing (same document again, already enabled, ...)' }) changed!: boolean;
}

export class TriggerListItemDto extends TriggerSummaryDto {
  @ApiProperty({ description: 'Whether any version was ever enabled (false: a draft, never live)' }) everEnabled!: boolean;
}

export class TriggerListDto {
  @ApiProperty({ type: [TriggerListItemDto] }) triggers!: TriggerListItemDto[];
}

export class TriggerVersionDto {
  @ApiProperty() version!: number;
  @ApiProperty() definedAt!: string;
  @ApiProperty({ example: 'http:csm' }) definedBy!: string;
}

export class TriggerDetailDto extends TriggerSummaryDto {
  @ApiProperty({ description: 'The version whose definition is shown' }) shownVersion!: number;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The trigger document of that version' }) definition!: Record<
    string,
    unknown
  >;
  @ApiProperty({ type: [TriggerVersionDto] }) versions!: TriggerVersionDto[];
}

export class TriggerValidationErrorDto {
  @ApiProperty({ example: 400 }) statusCode!: number;
  @ApiProperty({ example: 'invalid trigger: steps[0].wait.duration: expected a duration like "3d", got "soon"' }) message!: string;
  @ApiProperty({
    example: ['steps[0].wait.duration: expected a duration like "3d", got "soon"'],
    description: 'Every error, as `path: expected ...`',
  })
  errors!: string[];
}

export class LocatedTriggerErrorDto {
  @ApiProperty({ example: 'expected a duration like "3d", got "soon"' }) message!: string;
  @ApiProperty({
    example: 'steps[0].wait.duration',
    description: "The trigger language's path; '' for the document or a YAML syntax error",
  })
  path!: string;
  @ApiProperty({ type: Number, nullable: true, example: 7, description: '1-based line in the YAML text (null for a JSON body)' })
  line!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 21, description: '1-based column' }) column!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 7 }) endLine!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 25 }) endColumn!: number | null;
}

export class TriggerValidationReportDto {
  @ApiProperty({ description: 'Whether POST/PUT /v1/triggers would take the document' }) valid!: boolean;
  @ApiProperty({ type: [LocatedTriggerErrorDto] }) errors!: LocatedTriggerErrorDto[];
}

export class GuardVerdictDto {
  @ApiProperty({ example: 'frequency-cap 2 per 1d (customer)' }) guard!: string;
  @ApiProperty({ enum: ['passed', 'suppressed', 'deferred'] }) verdict!: string;
  @ApiProperty({ example: '0 sent in the last 1d' }) detail!: string;
}

export class ExplainedEventDto {
  @ApiProperty() id!: string;
  @ApiProperty({ example: 'TimerFired' }) type!: string;
  @ApiPropertyOptional() occurredAt?: string;
  @ApiPropertyOptional() recordedAt?: string;
  @ApiPropertyOptional() source?: string;
  @ApiPropertyOptional() detail?: string;
  @ApiPropertyOptional({ description: 'Delivery attempts' }) attempt?: number;
}

export class MessageExplanationDto {
  @ApiProperty() messageId!: string;
  @ApiProperty() customerId!: string;
  @ApiProperty({ example: 'inbox' }) channel!: string;
  @ApiProperty({ enum: ['scheduled', 'sent', 'delivered', 'failed', 'suppressed'] }) status!: string;
  @ApiProperty({ description: 'The trigger decision: scheduled, or suppressed by a guard (reason, detail)' }) decision!: Record<
    string,
    unknown
  >;
  @ApiProperty({ type: [ExplainedEventDto], description: 'Causal chain, from the direct cause back to the root event' })
  causedBy!: ExplainedEventDto[];
  @ApiPropertyOptional({ description: 'Trigger id, name, version, step (and its definition), run id and the run events' }) trigger?: Record<
    string,
    unknown
  >;
  @ApiPropertyOptional({ description: 'Template id and version when the step names one, and the Liquid subject/body' }) template?: Record<
    string,
    unknown
  >;
  @ApiPropertyOptional({ description: "A broadcast's message: broadcast id, segment, status, at / localTime, guards, its stream's events" })
  broadcast?: Record<string, unknown>;
  @ApiProperty({ type: [GuardVerdictDto] }) guards!: GuardVerdictDto[];
  @ApiProperty({
    type: [ExplainedEventDto],
    description:
      'MessageSent / MessageDelivered / MessageFailed / MessageSuppressed (dispatcher) / MessageResendRequested (admin) / opened / clicked',
  })
  delivery!: ExplainedEventDto[];
}

export class StepStatsDto {
  @ApiProperty({ example: '1.onTimeout.0', description: 'Step address' }) step!: string;
  @ApiProperty({ example: 'send' }) kind!: string;
  @ApiProperty() entered!: number;
  @ApiProperty() scheduled!: number;
  @ApiProperty() sent!: number;
  @ApiProperty() delivered!: number;
  @ApiProperty() failed!: number;
  @ApiProperty() opened!: number;
  @ApiProperty() clicked!: number;
  @ApiProperty({ example: { 'frequency-cap': 3, consent: 1 } }) suppressed!: Record<string, number>;
  @ApiProperty({ description: 'Runs that ended on a goal exit rule while at this step' }) converted!: number;
}

export class HoldoutStatsDto {
  @ApiProperty() runs!: number;
  @ApiProperty() converted!: number;
  @ApiProperty({ nullable: true, type: Number }) conversionRate!: number | null;
}

export class ModeStatsDto {
  @ApiProperty() runs!: number;
  @ApiProperty({ description: 'Runs ended by a goal exit rule' }) converted!: number;
  @ApiProperty({ nullable: true, type: Number }) conversionRate!: number | null;
  @ApiProperty({ example: { email: 12 }, description: 'Messages scheduled (shadow: that would have been) by channel' })
  messages!: Record<string, number>;
  @ApiProperty({ example: { 'frequency-cap': 2 }, description: 'Suppressions by reason' }) suppressed!: Record<string, number>;
}

export class TriggerVersionStatsDto {
  @ApiProperty() triggerId!: string;
  @ApiProperty() version!: number;
  @ApiProperty() runs!: number;
  @ApiProperty({ description: 'Runs outside the holdout' }) treated!: number;
  @ApiProperty({ description: 'Treated runs ended by a goal exit rule' }) converted!: number;
  @ApiProperty({ nullable: true, type: Number }) conversionRate!: number | null;
  @ApiProperty({ type: HoldoutStatsDto, description: 'Held-out customers who later did a goal event anyway' }) holdout!: HoldoutStatsDto;
  @ApiProperty({ type: [StepStatsDto] }) steps!: StepStatsDto[];
  @ApiProperty({ type: ModeStatsDto, description: 'Live runs (shadow runs and test sends left out)' }) live!: ModeStatsDto;
  @ApiProperty({ type: ModeStatsDto, nullable: true, description: 'Shadow runs of this version (null: never ran in shadow)' })
  shadow!: ModeStatsDto | null;
  @ApiProperty({
    type: 'object',
    nullable: true,
    additionalProperties: true,
    description:
      'Treated vs holdout conversion (a goal event within windowDays after matching, the same rule for both), per variant and all variants together, live and shadow: lift = p_t/p_h - 1 with the Katz log 95% interval of the ratio, difference p_t - p_h with the Newcombe hybrid score 95% interval; as of ?asOf= (a UTC day). null: no run was assigned at a split',
    example: {
      goals: ['Activated'],
      windowDays: 30,
      asOf: null,
      live: {
        holdout: { runs: 80, converted: 48, conversionRate: 0.6, ci95: { lower: 0.4906, upper: 0.7002 } },
        treated: {
          runs: 70,
          converted: 56,
          conversionRate: 0.8,
          ci95: { lower: 0.6904, upper: 0.8774 },
          lift: 0.3333,
          liftCi95: { lower: 0.0766, upper: 0.6512 },
          difference: 0.2,
          differenceCi95: { lower: 0.0524, upper: 0.3339 },
        },
        variants: [],
      },
      shadow: null,
    },
  })
  lift!: Record<string, unknown> | null;
}

export class TriggerImpactDto {
  @ApiProperty({ example: true }) dryRun!: true;
  @ApiProperty({ enum: ['update', 'enable'] }) change!: string;
  @ApiProperty() triggerId!: string;
  @ApiProperty({ enum: ['now', 'on enable', 'nothing changes'] }) takesEffect!: string;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: "The workspace policy's verdict: limit, period, estimate { peak, peakDay, average, from, to }, exceeded",
  })
  policy?: Record<string, unknown>;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      'DryRunReport: current / candidate backtests, entered, steps (matched by what they do: runs, customers, messages, suppressed, tasks, starts, stops with samples), messages, suppressed, tasks, messaged, messagesPerDay',
  })
  impact!: Record<string, unknown>;
}

export class TriggerAnalyticsDto {
  @ApiProperty({ type: [TriggerVersionStatsDto] }) triggers!: TriggerVersionStatsDto[];
}

const DURATION_SCHEMA = { type: 'string', pattern: '^[0-9]+[smhdw]$', description: 'A duration: 30s, 30m, 12h, 3d, 2w' };

/**
 * The trigger document's outline in OpenAPI (request bodies of create / update / backtest), so clients and fuzzers send
 * its real shape; the trigger language (libs/domain/src/triggers/validate.ts) checks the rest and names each field.
 */
export const TRIGGER_DOCUMENT_SCHEMA = {
  type: 'object',
  required: ['id', 'name', 'entry', 'steps'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', pattern: '^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$' },
    name: { type: 'string' },
    description: { type: 'string' },
    priority: { type: 'number', description: 'Higher wins when several triggers send on the same event; default 0' },
    key: {
      type: 'string',
      pattern: '^properties\\.[^.]+(\\.[^.]+)*$',
      description: 'Keyed runs: a property path of the entry event (properties.cartId): one run per value instead of per customer',
    },
    entry: {
      type: 'object',
      description:
        'A signal: { event, where? }, { absent }, { inactive }, { count }, { sum }, { usageDrop }, { date }, { stage }, { inStage }, { trait }, { traits }, { reply }, { all }, { any }, { not }',
      properties: { event: { type: 'string' }, where: { type: 'object', additionalProperties: true } },
    },
    reentry: {
      oneOf: [
        { type: 'string', enum: ['once', 'every'] },
        { type: 'object', required: ['oncePer'], additionalProperties: false, properties: { oncePer: DURATION_SCHEMA } },
      ],
    },
    maxEventAge: DURATION_SCHEMA,
    steps: {
      type: 'array',
      minItems: 1,
      description: 'Each step one of: wait, branch, split, send, task, set, emit, exit, reply, tag, handoff, resolve, webhook',
      items: {
        type: 'object',
        minProperties: 1,
        maxProperties: 1,
        properties: {
          send: {
            type: 'object',
            required: ['channel', 'body'],
            properties: {
              channel: { type: 'string', enum: ['inbox', 'webhook', 'email', 'log'] },
              body: { type: 'string', description: 'Liquid template' },
              subject: { type: 'string' },
              to: { type: 'string' },
              topic: { type: 'string' },
            },
          },
          wait: { type: 'object', properties: { duration: DURATION_SCHEMA } },
          task: {
            type: 'object',
            required: ['title'],
            properties: {
              title: { type: 'string' },
              owner: { type: 'string' },
              priority: { type: 'string', enum: ['low', 'normal', 'high', 'urgent'] },
              due: DURATION_SCHEMA,
            },
          },
          exit: { type: 'object', properties: { reason: { type: 'string' } } },
          reply: {
            type: 'object',
            required: ['body'],
            properties: { body: { type: 'string', description: 'Sent as written (no template) in the run’s conversation' } },
          },
          tag: { type: 'object', required: ['tags'], properties: { tags: { type: 'array', items: { type: 'string' } } } },
          handoff: {
            type: 'object',
            required: ['team'],
            properties: { team: { type: 'string' }, priority: { type: 'string', enum: ['low', 'normal', 'high', 'urgent'] } },
          },
          resolve: { type: 'object' },
          webhook: {
            type: 'object',
            required: ['url'],
            properties: {
              url: { type: 'string', description: 'Liquid template; http(s) URL, or {{ secrets.NAME }}' },
              method: { type: 'string', enum: ['POST', 'PUT', 'PATCH', 'DELETE', 'GET'] },
              headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'Credentials only as {{ secrets.NAME }}' },
              body: { type: 'string', description: 'Liquid template' },
            },
          },
        },
      },
    },
    exit: {
      type: 'array',
      items: { type: 'object', required: ['when'], properties: { when: { type: 'object' }, reason: { type: 'string' } } },
    },
    guards: {
      type: 'object',
      additionalProperties: false,
      properties: {
        frequencyCaps: {
          type: 'array',
          items: {
            type: 'object',
            required: ['max', 'per', 'scope'],
            properties: {
              max: { type: 'number', minimum: 0 },
              per: DURATION_SCHEMA,
              scope: { type: 'string', enum: ['customer', 'channel', 'trigger'] },
            },
          },
        },
        quietHours: {
          description:
            "Local times in the customer's time zone; sends inside wait for `end`. Unset: the workspace's default " +
            '(settings `quietHours`); "none": no quiet hours, not even the default',
          oneOf: [
            {
              type: 'object',
              required: ['start', 'end'],
              properties: {
                start: { type: 'string', description: 'HH:MM, e.g. 21:00' },
                end: { type: 'string', description: 'HH:MM, e.g. 08:00' },
              },
            },
            { type: 'string', enum: ['none'] },
          ],
        },
      },
    },
  },
  // deployable as written (test: trigger-language.e2e.ts): a wait short enough to see the message arrive while trying it
  example: {
    id: 'welcome-tip',
    name: 'Welcome tip',
    entry: { event: 'CustomerIdentified' },
    steps: [
      { wait: { duration: '2s' } },
      { send: { channel: 'inbox', body: 'A tip for you, {{ customer.traits.name | default: "there" }}: invite your team.' } },
    ],
  },
};

/** `{ from?, to?, definition? }` of the backtest endpoints. */
export function backtestBodySchema(definitionRequired: boolean) {
  const time = { type: 'string', format: 'date-time', description: 'ISO 8601' };
  return {
    type: 'object',
    additionalProperties: false,
    ...(definitionRequired ? { required: ['definition'] } : {}),
    properties: {
      from: { ...time, description: 'Start of the range (ISO 8601); the beginning of the log when absent' },
      to: { ...time, description: 'End of the range (ISO 8601, exclusive); now when absent' },
      definition: TRIGGER_DOCUMENT_SCHEMA,
    },
  };
}
