/**
 * What each role may do in the console, mirroring the engine's @Allow rules: the console hides what a key cannot do
 * (the engine refuses it anyway). An analyst sees; a CSM works (conversations, tasks, triggers, segments,
 * broadcasts); an admin also manages keys, teams and workspace settings.
 */
export type Role = 'admin' | 'csm' | 'analyst' | 'write';

export type Action =
  | 'view' // every read page: customers, timelines, triggers, segments, analytics
  | 'work' // the queue: reply, note, assign, snooze, resolve, close tasks
  | 'editTriggers' // save, enable, disable, backtest, dry-run, preview and test-send
  | 'editSegments' // define and remove segments, send broadcasts
  | 'admin'; // keys, teams and members, workspace settings

const ALLOWED: Record<Role, readonly Action[]> = {
  admin: ['view', 'work', 'editTriggers', 'editSegments', 'admin'],
  csm: ['view', 'work', 'editTriggers', 'editSegments'],
  analyst: ['view'],
  write: [],
};

export function can(role: Role | undefined, action: Action): boolean {
  return role !== undefined && (ALLOWED[role]?.includes(action) ?? false);
}

export const ROLE_LABELS: Record<Role, string> = {
  admin: 'Admin',
  csm: 'Customer success manager',
  analyst: 'Analyst',
  write: 'Write key',
};
