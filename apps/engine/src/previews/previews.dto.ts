import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

const STEP = {
  oneOf: [{ type: 'string' }, { type: 'integer', minimum: 0 }],
  example: 'steps[1]',
  description:
    'The step: its document path (`steps[2].branch.then[0]`), its run address as TriggerRunStepEntered.step names it (`2.then.0`), or a top-level index',
};

/** POST /v1/triggers/:id/preview. */
export class PreviewRequestDto {
  @ApiProperty({ example: 'ada' })
  customerId!: string;

  @ApiProperty(STEP)
  step!: string | number;

  @ApiPropertyOptional({ example: 2, description: 'The trigger version (default: the latest)' })
  version?: number;

  @ApiPropertyOptional({ example: '2026-03-01T09:00:00Z', description: "The moment: the customer's state as of then (default: now)" })
  asOf?: string;
}

/** POST /v1/triggers/:id/test-send. */
export class TestSendRequestDto extends PreviewRequestDto {
  @ApiProperty({
    example: 'qa@example.com',
    description:
      "Where it goes: an email address for an email step, a test customer's id for an in-app (inbox) step (their inbox gets it), a label for a log step. No URL: webhook and Slack steps are previewed, never test-sent",
  })
  to!: string;
}

class GuardVerdictDto {
  @ApiProperty({ example: 'frequency-cap 1 per 1d (customer)' })
  guard!: string;
  @ApiProperty({ enum: ['passed', 'suppressed', 'deferred'] })
  verdict!: string;
  @ApiProperty({ example: '0 sent in the last 1d' })
  detail!: string;
}

export class PreviewAnswerDto {
  @ApiProperty() triggerId!: string;
  @ApiProperty() version!: number;
  @ApiProperty() customerId!: string;
  @ApiProperty() asOf!: string;
  @ApiProperty({ example: { address: '1', path: 'steps[1]', kind: 'send' } }) step!: Record<string, string>;
  @ApiPropertyOptional({ example: 'email' }) channel?: string;
  @ApiPropertyOptional({ example: 'Welcome, Ada' }) subject?: string;
  @ApiPropertyOptional() body?: string;
  @ApiPropertyOptional({ description: "A webhook step's rendered request (secrets as placeholders)" }) request?: Record<string, unknown>;
  @ApiPropertyOptional({ description: "A task step's title (not a template)" }) title?: string;
  @ApiProperty({ type: [GuardVerdictDto] }) guards!: GuardVerdictDto[];
  @ApiProperty({ enum: ['send', 'suppress', 'defer', 'none'] }) verdict!: string;
  @ApiPropertyOptional() suppressed?: Record<string, string>;
  @ApiPropertyOptional() deferredTo?: string;
  @ApiProperty({ type: [String], example: ['subject: undefined variable: customer.traits.name'] }) templateErrors!: string[];
  @ApiPropertyOptional({ description: 'The event `{{ event.* }}` was rendered from' }) cause?: Record<string, string>;
  @ApiProperty() timeZone!: string;
  @ApiProperty({ type: [String] }) notes!: string[];
}

export class TestSendAnswerDto {
  @ApiProperty({ example: 'test-6f1c…' }) messageId!: string;
  @ApiProperty({ description: "The stream it is on: the customer's (email, log) or the test customer's (inbox)" }) customerId!: string;
  @ApiProperty() channel!: string;
  @ApiProperty() to!: string;
  @ApiProperty({ enum: [true] }) test!: boolean;
  @ApiProperty({ type: PreviewAnswerDto }) preview!: PreviewAnswerDto;
}

export const WHY_NOT_EXAMPLE = {
  customerId: 'ada',
  triggerId: 'power-user',
  version: 1,
  asOf: '2026-03-04T00:00:00.000Z',
  got: false,
  code: 'frequency-cap',
  reason:
    'frequency-cap: message 9b2… was suppressed: at most 1 per 1d (customer): 1 already sent in that window (4c1…) (run 7e0… started at 2026-03-03T10:00:00.000Z on event 51a…)',
  events: [{ id: '51a…', name: 'cause', type: 'cause', at: '2026-03-03T10:00:00.000Z' }],
  messages: [{ messageId: '4c1…', channel: 'email', triggerId: 'welcome', at: '2026-03-03T09:00:00.000Z' }],
  checks: [{ check: 'run', passed: false, text: '…' }],
};
