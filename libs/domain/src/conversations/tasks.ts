/**
 * CSM tasks over the API: assign an open task to a member, close it with an outcome. The task itself is opened by a
 * trigger's `task` step (CsmTaskOpened) and folded into the customer's state (`openTasks`). Pure.
 */
import type { OpenTask } from '../customer';
import { envelope } from '../envelope';
import type { TypedEvent } from '../events';
import { deterministicId } from '../ids';
import { ConversationCommandError, type ConversationContext } from './conversation';

export type TaskCommand = { type: 'AssignTask'; assignee: string; by?: string } | { type: 'CloseTask'; outcome: string; by?: string };

/** `task`: the open task, or undefined when there is none with that id (closed or never opened). */
export function decideTask(
  command: TaskCommand,
  taskId: string,
  task: OpenTask | undefined,
  ctx: ConversationContext,
): Array<TypedEvent<'CsmTaskAssigned' | 'CsmTaskClosed'>> {
  if (!task) throw new ConversationCommandError('not_found', `task "${taskId}" is not open for customer "${ctx.customerId}"`);
  const now = ctx.now.toISOString();
  const base = { workspaceId: ctx.workspaceId, customerId: ctx.customerId, occurredAt: now, recordedAt: now, source: ctx.source };
  if (command.type === 'AssignTask') {
    if (task.owner === command.assignee) return [];
    return [
      envelope({
        ...base,
        id: deterministicId('task-assigned', ctx.workspaceId, ctx.customerId, taskId, command.assignee, now),
        type: 'CsmTaskAssigned',
        data: { taskId, assignee: command.assignee, reason: 'manual' as const, ...(command.by !== undefined && { by: command.by }) },
      }),
    ];
  }
  if (typeof command.outcome !== 'string' || command.outcome.trim() === '')
    throw new ConversationCommandError('invalid', 'outcome: must be a non-empty string (what came of the task)');
  return [
    envelope({
      ...base,
      // one close per task: a second close racing this one writes the same id, stored once
      id: deterministicId('task-closed', ctx.workspaceId, ctx.customerId, taskId),
      type: 'CsmTaskClosed',
      data: { taskId, resolution: 'closed', outcome: command.outcome, ...(command.by !== undefined && { by: command.by }) },
    }),
  ];
}
