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

export class TriggerListDto {
  @ApiProperty({ type: [TriggerSummaryDto] }) triggers!: TriggerSummaryDto[];
}

export class TriggerVersionDto {
  @ApiProperty() version!: number;
  @ApiProperty() definedAt!: string;
  @ApiProperty({ example: 'http:csm' }) definedBy!: string;
}

export class TriggerDetailDto extends TriggerSummaryDto {
  @ApiProperty({ description: 'The version whose definition is shown' }) shownVersion!: number;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The trigger document of that version' }) definition!: Record<string, unknown>;
  @ApiProperty({ type: [TriggerVersionDto] }) versions!: TriggerVersionDto[];
}

export class TriggerValidationErrorDto {
  @ApiProperty({ example: 400 }) statusCode!: number;
  @ApiProperty({ example: 'invalid trigger: steps[0].wait.duration: expected a duration like "3d", got "soon"' }) message!: string;
  @ApiProperty({ example: ['steps[0].wait.duration: expected a duration like "3d", got "soon"'], description: 'Every error, as `path: expected ...`' })
  errors!: string[];
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
  @ApiProperty({ description: 'The trigger decision: scheduled, or suppressed by a guard (reason, detail)' }) decision!: Record<string, unknown>;
  @ApiProperty({ type: [ExplainedEventDto], description: 'Causal chain, from the direct cause back to the root event' }) causedBy!: ExplainedEventDto[];
  @ApiPropertyOptional({ description: 'Trigger id, name, version, step (and its definition), run id and the run events' }) trigger?: Record<string, unknown>;
  @ApiPropertyOptional({ description: 'Template id and version when the step names one, and the Liquid subject/body' }) template?: Record<string, unknown>;
  @ApiProperty({ type: [GuardVerdictDto] }) guards!: GuardVerdictDto[];
  @ApiProperty({ type: [ExplainedEventDto], description: 'MessageSent / MessageDelivered / MessageFailed / MessageSuppressed (dispatcher) / MessageResendRequested (admin) / opened / clicked' })
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

export class TriggerVersionStatsDto {
  @ApiProperty() triggerId!: string;
  @ApiProperty() version!: number;
  @ApiProperty() runs!: number;
  @ApiProperty({ description: 'Runs outside the holdout' }) treated!: number;
  @ApiProperty({ description: 'Treated runs ended by a goal exit rule' }) converted!: number;
  @ApiProperty({ nullable: true, type: Number }) conversionRate!: number | null;
  @ApiProperty({ type: HoldoutStatsDto, description: 'Held-out customers who later did a goal event anyway' }) holdout!: HoldoutStatsDto;
  @ApiProperty({ type: [StepStatsDto] }) steps!: StepStatsDto[];
}

export class TriggerAnalyticsDto {
  @ApiProperty({ type: [TriggerVersionStatsDto] }) triggers!: TriggerVersionStatsDto[];
}
