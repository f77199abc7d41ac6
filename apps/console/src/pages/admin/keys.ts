/** The workspace's keys (GET/POST /v1/admin/keys, rotate, revoke): what the console shows of them. Never a key's value. */

export const KEY_ROLES = ['admin', 'csm', 'analyst', 'write'] as const;
export type KeyRole = (typeof KEY_ROLES)[number];

export interface KeyView {
  id: string;
  role: KeyRole;
  name: string;
  lastFour: string;
  createdAt: string | null;
  source: 'env' | 'file' | 'api' | string;
  memberId?: string;
  /** When the key was last used, if the engine says (it does not keep it today). */
  lastUsedAt?: string | null;
}

/** POST answers and rotate answers: the key in clear, this once. */
export type NewKey = KeyView & { key: string; replaces?: string };

export const ROLE_DESCRIPTIONS: Record<KeyRole, string> = {
  admin: 'Admin: manages keys, teams and workspace settings, and does everything a CSM does',
  csm: 'Customer success manager: works conversations and tasks, edits triggers and segments',
  analyst: 'Analyst: reads everything, changes nothing',
  write: 'Write key: sends events from your product (track, identify); cannot sign in to the console',
};

export const SOURCE_LABELS: Record<string, string> = {
  env: 'environment (JOURNEY_*_KEY)',
  file: 'key file',
  api: 'created here or over the API',
};

/** Only csm keys belong to a member. */
export const takesMember = (role: KeyRole): boolean => role === 'csm';

/** The body of POST /v1/admin/keys: a member only for csm keys; the engine names a key without a name. */
export function newKeyBody(role: KeyRole, name: string, memberId: string): { role: KeyRole; name?: string; memberId?: string } {
  const n = name.trim();
  return { role, ...(n && { name: n }), ...(takesMember(role) && memberId && { memberId }) };
}

export function nameError(name: string): string | undefined {
  // eslint-disable-next-line no-control-regex -- control characters are what the name may not hold
  if (name.length > 100 || /[\u0000-\u001f\u007f]/.test(name)) return 'at most 100 characters, without control characters';
  return undefined;
}

/** Admin keys first, then csm, analyst, write; by name within a role. */
export function sortKeys(keys: readonly KeyView[]): KeyView[] {
  const rank = (r: string) => {
    const i = (KEY_ROLES as readonly string[]).indexOf(r);
    return i === -1 ? KEY_ROLES.length : i;
  };
  return [...keys].sort((a, b) => rank(a.role) - rank(b.role) || a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

/** Whether revoking this key would leave the workspace without an admin key (the engine refuses it: 409). */
export function isLastAdmin(key: KeyView, keys: readonly KeyView[]): boolean {
  return key.role === 'admin' && keys.filter((k) => k.role === 'admin').length <= 1;
}

/** "ck_…x9Qe": the role's prefix and the last four characters, to tell keys apart. */
export function maskedKey(key: KeyView): string {
  const prefix = { admin: 'ak_', csm: 'ck_', analyst: 'nk_', write: 'wk_' }[key.role as KeyRole] ?? '';
  return `${prefix}…${key.lastFour}`;
}
