import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class BroadcastSendDto {
  @ApiProperty({ example: 'email', description: 'A channel: email, inbox, log, slack, webhook' }) channel!: string;
  @ApiPropertyOptional({ example: 'Our December update' }) subject?: string;
  @ApiProperty({ example: 'Hi {{ customer.traits.name }}, ...', description: 'Liquid, validated as a trigger send body is' }) body!: string;
  @ApiPropertyOptional({ example: 'product-news', description: 'Checked against the customer’s unsubscribed topics' }) topic?: string;
}

export class BroadcastRequestDto {
  @ApiPropertyOptional({ example: 'december-update', description: 'Letters, digits, - and _; default: a new UUID' }) id?: string;
  @ApiProperty({ example: 'trial-users' }) segmentId!: string;
  @ApiProperty({ type: BroadcastSendDto }) send!: BroadcastSendDto;
  @ApiPropertyOptional({ example: '2026-12-10T09:00:00Z', description: 'An instant (with offset); neither at nor localTime: now' })
  at?: string;
  @ApiPropertyOptional({ example: '2026-12-10T09:00', description: "A local wall-clock time, applied in each customer's time zone" })
  localTime?: string;
  @ApiPropertyOptional({
    description:
      'As a trigger’s guards: frequencyCaps [{ max, per, scope: customer | channel }], quietHours { start, end } or "none" ' +
      "(unset: the workspace's default quiet hours, when the message is decided)",
    example: { frequencyCaps: [{ max: 1, per: '1d', scope: 'customer' }], quietHours: { start: '21:00', end: '08:00' } },
  })
  guards?: Record<string, unknown>;
}

export class BroadcastAnalyticsDto {
  @ApiProperty({ description: 'Members reached: a decision, or a local-time timer set' }) targeted!: number;
  @ApiProperty({ description: 'Local-time timers not yet due' }) pending!: number;
  @ApiProperty() scheduled!: number;
  @ApiProperty({ example: { consent: 1, 'frequency-cap': 1 }, description: 'By reason' }) suppressed!: Record<string, number>;
  @ApiProperty() sent!: number;
  @ApiProperty() delivered!: number;
  @ApiProperty() failed!: number;
  @ApiProperty() opened!: number;
  @ApiProperty() clicked!: number;
}

export class BroadcastCountsDto {
  @ApiProperty() targeted!: number;
  @ApiProperty() scheduled!: number;
  @ApiProperty() suppressed!: Record<string, number>;
  @ApiProperty({ description: 'Local-time timers set' }) timers!: number;
  @ApiProperty({ description: 'In the members read model but out of the segment by their stream' }) skipped!: number;
}

export class BroadcastDetailDto {
  @ApiProperty() id!: string;
  @ApiProperty() segmentId!: string;
  @ApiProperty({ enum: ['scheduled', 'sending', 'completed', 'cancelled'] }) status!: string;
  @ApiProperty({ type: BroadcastSendDto }) send!: BroadcastSendDto;
  @ApiPropertyOptional() at?: string;
  @ApiPropertyOptional() localTime?: string;
  @ApiPropertyOptional() guards?: Record<string, unknown>;
  @ApiProperty({ description: 'When the fan-out over the members starts' }) startAt!: string;
  @ApiPropertyOptional() scheduledAt?: string;
  @ApiPropertyOptional({ example: 'http:csm:ann' }) by?: string;
  @ApiPropertyOptional() completedAt?: string;
  @ApiPropertyOptional() cancelledAt?: string;
  @ApiProperty({ type: BroadcastCountsDto, description: 'What the fan-out decided, from the broadcast stream' })
  fanOut!: BroadcastCountsDto;
  @ApiProperty({ type: BroadcastAnalyticsDto, description: 'What came of the messages (broadcast-analytics read model)' })
  analytics!: BroadcastAnalyticsDto;
}

export class BroadcastSummaryDto {
  @ApiProperty() broadcastId!: string;
  @ApiProperty() segmentId!: string;
  @ApiProperty() channel!: string;
  @ApiProperty({ description: "'' when not given" }) at!: string;
  @ApiProperty({ description: "'' when not given" }) localTime!: string;
  @ApiProperty() startAt!: string;
  @ApiProperty() scheduledAt!: string;
  @ApiProperty() by!: string;
  @ApiProperty({ enum: ['scheduled', 'sending', 'completed', 'cancelled'] }) status!: string;
  @ApiPropertyOptional({ type: BroadcastCountsDto }) counts?: BroadcastCountsDto;
}

export class BroadcastListDto {
  @ApiProperty({ type: [BroadcastSummaryDto] }) broadcasts!: BroadcastSummaryDto[];
}

export class BroadcastErrorDto {
  @ApiProperty({ example: 400 }) statusCode!: number;
  @ApiProperty({ example: 'invalid broadcast: segmentId: unknown segment "trial"' }) message!: string;
  @ApiProperty({ example: ['segmentId: unknown segment "trial"'] }) errors!: string[];
}
