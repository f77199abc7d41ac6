import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsISO8601, IsOptional } from 'class-validator';
import { TASK_PRIORITIES } from '@journey/domain';

/** PUT /v1/members/:memberId/availability. */
export class AvailabilityDto {
  @ApiProperty({ description: 'true: the member takes no new work (assignment passes them over)' })
  @IsBoolean()
  away!: boolean;

  @ApiPropertyOptional({ example: '2026-01-12T08:00:00Z', description: 'With away: true, when they are back (ISO 8601)' })
  @IsOptional()
  @IsISO8601({ strict: true })
  until?: string;
}

const duration = { type: 'string', example: '4h', description: 'business hours: 30m, 4h, 2d' };
const NOTIFICATIONS = {
  type: 'array',
  items: { type: 'object', properties: { channel: { type: 'string', enum: ['slack', 'email'] }, to: { type: 'string' } } },
};

/** A team document (validated by the organisation decider: every error names its field). */
export const TEAM_SCHEMA = {
  type: 'object',
  properties: {
    teamId: { type: 'string', description: 'Optional: the path names it (must be the same when given)' },
    name: { type: 'string' },
    timeZone: { type: 'string', example: 'Europe/Paris', description: 'IANA time zone of the business hours (default UTC)' },
    businessHours: {
      type: 'object',
      required: ['days', 'start', 'end'],
      properties: {
        days: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 7 }, example: [1, 2, 3, 4, 5] },
        start: { type: 'string', example: '09:00' },
        end: { type: 'string', example: '17:00' },
      },
    },
    sla: {
      type: 'object',
      description: `first-response and resolution targets by priority (${TASK_PRIORITIES.join(', ')})`,
      additionalProperties: { type: 'object', properties: { firstResponse: duration, resolution: duration } },
      example: { high: { firstResponse: '1h', resolution: '8h' } },
    },
    escalation: {
      type: 'object',
      properties: { notify: NOTIFICATIONS, reassignToLead: { type: 'boolean' } },
    },
    notifyHandoffs: { ...NOTIFICATIONS, description: 'Who is told when a conversation is handed to the team' },
    lead: { type: 'string', description: 'A member id' },
    ownerTrait: {
      type: 'string',
      example: 'csm_owner',
      description: 'A customer or account trait naming the member who owns the customer',
    },
  },
};

export const MEMBER_SCHEMA = {
  type: 'object',
  properties: {
    memberId: { type: 'string', description: 'Optional: the path names it (must be the same when given)' },
    name: { type: 'string', example: 'Sam Lee' },
    email: { type: 'string', example: 'sam@example.com' },
    teams: { type: 'array', items: { type: 'string' }, example: ['support'] },
    slackUserId: { type: 'string', example: 'U024BE7LH' },
  },
};

export const MEMBER_EXAMPLE = { memberId: 'sam', name: 'Sam Lee', email: 'sam@example.com', teams: ['support'], away: false };
export const TEAM_EXAMPLE = {
  teamId: 'support',
  name: 'Support',
  timeZone: 'Europe/Paris',
  sla: { high: { firstResponse: '1h', resolution: '8h' } },
  lead: 'sam',
};
