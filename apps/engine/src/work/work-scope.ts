import { BadRequestException, ForbiddenException } from '@nestjs/common';
import { TASK_PRIORITIES } from '@journey/domain';
import type { Principal } from '../auth/key-store';

/** Who acts for a key: the member a csm key belongs to, else `key:<keyId>` (COMMON: `by` on events a person causes). */
export const actorOf = (principal: Principal): string => (principal as { memberId?: string }).memberId ?? `key:${principal.keyId}`;

/**
 * Whose items: `assignee` a member id ('' for nobody: a team's queue), undefined for everyone in the workspace; `team` a
 * team; `queues` the teams whose unassigned items are also in (a csm's stream: their teams' queues).
 */
export interface WorkScope {
  assignee?: string;
  team?: string;
  queues: string[];
}

export interface WorkFilters {
  status?: 'open' | 'snoozed';
  priority?: string;
  kind?: 'conversation' | 'task';
}

export const MAX_LIMIT = 500;
export const DEFAULT_LIMIT = 100;

const LIST_PARAMS = ['assignee', 'team', 'status', 'priority', 'kind', 'limit', 'cursor'];
const STREAM_PARAMS = ['assignee', 'team'];

const bad = (message: string) => new BadRequestException(message);

function single(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw bad(`${name}: give it once, as a string`);
  if (v.trim() === '') throw bad(`${name}: must not be empty`);
  return v;
}

function rejectUnknown(query: Record<string, unknown>, known: string[]): void {
  const unknown = Object.keys(query).filter((k) => !known.includes(k));
  if (unknown.length) throw bad(`unknown query parameter(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
}

/**
 * The scope of a request. A csm sees their own items (`assignee` absent, `me` or their member id) or, with
 * `assignee=none&team=<team>`, the unassigned queue of a team they belong to; admin and analyst keys any member's
 * (`assignee=<member>`), a team's queue (`assignee=none`) or, without `assignee`, the whole workspace.
 */
export function scopeOf(principal: Principal, myTeams: readonly string[], query: Record<string, unknown>, stream = false): WorkScope {
  const me = actorOf(principal);
  const assignee = single(query, 'assignee');
  const team = single(query, 'team');
  const target = assignee === undefined ? undefined : assignee === 'me' ? me : assignee === 'none' ? '' : assignee;
  if (principal.role === 'csm') {
    if (target === undefined || target === me)
      return { assignee: me, ...(team !== undefined && { team }), queues: stream && team === undefined ? [...myTeams] : [] };
    if (target === '') {
      if (team === undefined) throw bad('assignee=none (a queue) needs team=<team>');
      if (!myTeams.includes(team))
        throw new ForbiddenException(`a csm sees the queues of their own teams only; "${team}" is not one of yours`);
      return { assignee: '', team, queues: [] };
    }
    throw new ForbiddenException(`a csm key sees its own work (assignee=me) and its teams' queues; not "${assignee}"'s`);
  }
  if (target === '' && team === undefined) throw bad('assignee=none (a queue) needs team=<team>');
  return { ...(target !== undefined && { assignee: target }), ...(team !== undefined && { team }), queues: [] };
}

export function parseListQuery(
  principal: Principal,
  myTeams: readonly string[],
  query: Record<string, unknown>,
): { scope: WorkScope; filters: WorkFilters; limit: number; cursor?: string } {
  rejectUnknown(query, LIST_PARAMS);
  const scope = scopeOf(principal, myTeams, query);
  const filters: WorkFilters = {};
  const status = single(query, 'status');
  if (status !== undefined) {
    if (status !== 'open' && status !== 'snoozed') throw bad(`status: must be open or snoozed (default: both), got "${status}"`);
    filters.status = status;
  }
  const priority = single(query, 'priority');
  if (priority !== undefined) {
    if (!(TASK_PRIORITIES as readonly string[]).includes(priority))
      throw bad(`priority: must be one of ${TASK_PRIORITIES.join(', ')}, got "${priority}"`);
    filters.priority = priority;
  }
  const kind = single(query, 'kind');
  if (kind !== undefined) {
    if (kind !== 'conversation' && kind !== 'task') throw bad(`kind: must be conversation or task, got "${kind}"`);
    filters.kind = kind;
  }
  const limitText = single(query, 'limit');
  const limit = limitText === undefined ? DEFAULT_LIMIT : Number(limitText);
  if (!/^\d+$/.test(limitText ?? '1') || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    throw bad(`limit: must be an integer from 1 to ${MAX_LIMIT}, got "${limitText}"`);
  const cursorText = single(query, 'cursor');
  return { scope, filters, limit, ...(cursorText !== undefined && { cursor: decodeCursor(cursorText) }) };
}

export function parseStreamQuery(principal: Principal, myTeams: readonly string[], query: Record<string, unknown>): WorkScope {
  rejectUnknown(query, STREAM_PARAMS);
  return scopeOf(principal, myTeams, query, true);
}

/** A cursor is the sort key of the last item of the page (opaque to clients: base64url). */
export const encodeCursor = (sortKey: string): string => Buffer.from(sortKey, 'utf8').toString('base64url');

function decodeCursor(cursor: string): string {
  const key = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  if (!/^[0-9][^|]*\|\d\|[^|]*\|.+$/.test(key)) throw bad('cursor: not a cursor of this list (use nextCursor of the previous page)');
  return key;
}

/** Whether an item held by `holder` is in the scope. */
export function inScope(scope: WorkScope, holder: { assignee: string; team: string }): boolean {
  if (scope.team !== undefined && holder.team !== scope.team) return false;
  if (scope.assignee === undefined) return true;
  if (holder.assignee === scope.assignee) return true;
  return holder.assignee === '' && scope.queues.includes(holder.team);
}
