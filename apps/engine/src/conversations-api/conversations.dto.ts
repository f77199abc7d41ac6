import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { MAX_BODY, ORG_ID, TASK_PRIORITIES, type TaskPriority } from '@journey/domain';

const ID_MESSAGE = { message: `must be an id matching ${ORG_ID.source}` };

/** POST /v1/customers/:id/conversations: an agent writes to the customer first. */
export class StartConversationDto {
  @ApiProperty({ example: 'Hi Ada, your renewal is next month: shall we review your plan?', maxLength: MAX_BODY })
  @IsString()
  @IsNotEmpty()
  @MaxLength(MAX_BODY)
  body!: string;

  @ApiPropertyOptional({ enum: ['inbox', 'email'], default: 'inbox', description: 'Where the customer reads it and answers' })
  @IsOptional()
  @IsIn(['inbox', 'email'])
  channel?: 'inbox' | 'email';

  @ApiPropertyOptional({ example: 'Your renewal', maxLength: 200 })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  subject?: string;
}

/** POST …/replies and …/notes. */
export class MessageDto {
  @ApiProperty({ example: 'Thanks, I have fixed the export: could you try again?', maxLength: MAX_BODY })
  @IsString()
  @IsNotEmpty()
  @MaxLength(MAX_BODY)
  body!: string;
}

/** POST …/assign: to a member, a team (its queue, or its owner / least loaded member), a priority. */
export class AssignDto {
  @ApiPropertyOptional({
    example: 'sam',
    nullable: true,
    description:
      'A member of the workspace; null: nobody (back to the team queue); absent: the current assignee stays (unless team changes)',
  })
  @IsOptional()
  @Matches(ORG_ID, ID_MESSAGE)
  assignee?: string | null;

  @ApiPropertyOptional({ example: 'support', description: 'A team of the workspace' })
  @IsOptional()
  @Matches(ORG_ID, ID_MESSAGE)
  team?: string;

  @ApiPropertyOptional({ enum: TASK_PRIORITIES })
  @IsOptional()
  @IsIn(TASK_PRIORITIES as TaskPriority[])
  priority?: TaskPriority;
}

export class SnoozeDto {
  @ApiProperty({ example: '2026-01-12T08:00:00Z', description: 'When it comes back (ISO 8601, in the future)' })
  @IsISO8601({ strict: true })
  until!: string;
}

/** POST /v1/customers/:id/tasks/:taskId/assign. */
export class AssignTaskDto {
  @ApiProperty({ example: 'sam', description: 'A member of the workspace' })
  @Matches(ORG_ID, ID_MESSAGE)
  assignee!: string;
}

/** POST /v1/customers/:id/tasks/:taskId/close. */
export class CloseTaskDto {
  @ApiProperty({ example: 'Called: renewing for two years', maxLength: 2000 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(2000)
  outcome!: string;
}

export const CONVERSATION_EXAMPLE = {
  customerId: 'ada',
  conversationId: '3f6c…',
  status: 'open',
  channel: 'inbox',
  team: 'support',
  assignee: 'sam',
  priority: 'high',
  held: true,
  waitingOn: 'customer',
  startedAt: '2026-01-05T09:00:00.000Z',
  firstResponseAt: '2026-01-05T09:12:00.000Z',
  thread: [
    { messageId: 'm1', from: 'customer', body: 'The export fails', at: '2026-01-05T09:00:00.000Z', channel: 'inbox' },
    { messageId: 'n1', from: 'note', body: 'Lee knows exports', at: '2026-01-05T09:05:00.000Z', by: 'sam' },
    { messageId: 'm2', from: 'agent', body: 'Fixed: try again?', at: '2026-01-05T09:12:00.000Z', channel: 'inbox', by: 'sam' },
  ],
  version: 5,
};
