import { createHash, randomBytes } from 'node:crypto';
import { deterministicId, envelope, type JourneyEvent, type RecordedEvent } from '@journey/domain';

export const KEY_ROLES = ['write', 'admin', 'csm', 'analyst'] as const;
export type KeyRole = (typeof KEY_ROLES)[number];

/** A workspace id: lower-case letters, digits, `_` and `-`, starting with a letter or digit, at most 63 characters. */
export const WORKSPACE_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function workspaceIdError(value: unknown): string | undefined {
  if (typeof value === 'string' && WORKSPACE_ID.test(value)) return undefined;
  return `must match ${WORKSPACE_ID.source} (lower-case letters, digits, "_" and "-", at most 63 characters), got ${JSON.stringify(value)}`;
}

/** Where a key comes from: `keys.json`, JOURNEY_WRITE_KEY / JOURNEY_ADMIN_KEY, or the admin API (the event log). */
export type KeySource = 'file' | 'env' | 'api';

/** A key as the engine keeps it: never the key itself, only its SHA-256 and its last four characters. */
export interface KeyRecord {
  id: string;
  /** `sha256:<hex>` of the key. */
  hash: string;
  workspaceId: string;
  role: KeyRole;
  name: string;
  lastFour: string;
  /** ISO 8601; absent for keys from the file or the environment that never said. */
  createdAt?: string;
  source: KeySource;
  /** A `csm` key's member (teams-<workspace> stream): what the key's holder does is recorded as theirs. */
  memberId?: string;
}

/** The authenticated workspace, role and key of a request. */
export interface Principal {
  workspaceId: string;
  role: KeyRole;
  keyId: string;
  /** The member a `csm` key belongs to. */
  memberId?: string;
}

/** Who a person's action is recorded as (`by`): the key's member, else `key:<keyId>` (an admin key, a csm key without member). */
export const actorOf = (principal: Principal): string => principal.memberId ?? `key:${principal.keyId}`;

/** Roles whose keys may belong to a member. */
export const MEMBER_ROLES: readonly KeyRole[] = ['csm'];

export function hashKey(key: string): string {
  return `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

/** A key's id, derived from its hash: the same key has the same id in every process and after every restart. */
export function keyIdOf(hash: string): string {
  return `key_${createHash('sha256').update(`journey-key-id:${hash}`).digest('hex').slice(0, 20)}`;
}

const PREFIX: Record<KeyRole, string> = { write: 'wk', admin: 'ak', csm: 'ck', analyst: 'nk' };

/** A fresh random key (144 bits), with a prefix telling its role: `wk_…`, `ak_…`, `ck_…`, `nk_…`. */
export function generateKey(role: KeyRole): string {
  return `${PREFIX[role]}_${randomBytes(18).toString('base64url')}`;
}

export function recordOf(key: string, fields: Omit<KeyRecord, 'id' | 'hash' | 'lastFour'>): KeyRecord {
  const hash = hashKey(key);
  return { id: keyIdOf(hash), hash, lastFour: key.slice(-4), ...fields };
}

/** The event log's keys: one stream per workspace, so a workspace's key changes are checked against its revision. */
export const KEYS_STREAM_PREFIX = 'apikeys-';
export const keysStreamId = (workspaceId: string): string => `${KEYS_STREAM_PREFIX}${workspaceId}`;

export const KEY_EVENT_TYPES = ['ApiKeyCreated', 'ApiKeyRevoked'] as const;
export type ApiKeyCreatedData = {
  keyId: string;
  hash: string;
  role: KeyRole;
  name: string;
  lastFour: string;
  /** A csm key's member. */
  memberId?: string;
};
export type ApiKeyRevokedData = {
  keyId: string;
  /** `revoked`, or `rotated` (with the id of the key that replaced it). */
  reason: 'revoked' | 'rotated';
  replacedBy?: string;
  /** The key that revoked it. */
  by: string;
};

export function keyCreated(record: KeyRecord, at: string): JourneyEvent<'ApiKeyCreated', ApiKeyCreatedData> {
  const data: ApiKeyCreatedData = {
    keyId: record.id,
    hash: record.hash,
    role: record.role,
    name: record.name,
    lastFour: record.lastFour,
    ...(record.memberId !== undefined && { memberId: record.memberId }),
  };
  return keyEvent('ApiKeyCreated', record.id, record.workspaceId, data, at);
}

export function keyRevoked(workspaceId: string, data: ApiKeyRevokedData, at: string): JourneyEvent<'ApiKeyRevoked', ApiKeyRevokedData> {
  return keyEvent('ApiKeyRevoked', data.keyId, workspaceId, data, at);
}

function keyEvent<T extends string, D>(type: T, keyId: string, workspaceId: string, data: D, at: string): JourneyEvent<T, D> {
  return envelope({
    id: deterministicId(type, workspaceId, keyId),
    type,
    data,
    workspaceId,
    customerId: '',
    occurredAt: at,
    recordedAt: at,
    source: 'admin',
  });
}

/**
 * The keys in force: the static ones (file, environment) and the log's key events folded over them. Idempotent: a key
 * created twice is one key, and a revoked key stays revoked (were it created again, from the file or the log).
 */
export class KeyRing {
  private readonly byHash = new Map<string, KeyRecord>();
  private readonly byId = new Map<string, KeyRecord>();
  private readonly revoked = new Set<string>();

  constructor(keys: Iterable<KeyRecord> = []) {
    for (const k of keys) this.add(k);
  }

  add(record: KeyRecord): void {
    if (this.revoked.has(record.id) || this.byId.has(record.id)) return;
    this.byId.set(record.id, record);
    this.byHash.set(record.hash, record);
  }

  revoke(id: string): void {
    this.revoked.add(id);
    const record = this.byId.get(id);
    if (!record) return;
    this.byId.delete(id);
    this.byHash.delete(record.hash);
  }

  apply(event: JourneyEvent | RecordedEvent): void {
    if (event.type === 'ApiKeyCreated') {
      const d = event.data as unknown as ApiKeyCreatedData;
      this.add({
        id: d.keyId,
        hash: d.hash,
        workspaceId: event.metadata.workspaceId,
        role: d.role,
        name: d.name,
        lastFour: d.lastFour,
        createdAt: event.metadata.recordedAt,
        source: 'api',
        ...(d.memberId !== undefined && { memberId: d.memberId }),
      });
    } else if (event.type === 'ApiKeyRevoked') {
      this.revoke((event.data as unknown as ApiKeyRevokedData).keyId);
    }
  }

  byKeyHash(hash: string): KeyRecord | undefined {
    return this.byHash.get(hash);
  }

  get(workspaceId: string, id: string): KeyRecord | undefined {
    const record = this.byId.get(id);
    return record?.workspaceId === workspaceId ? record : undefined;
  }

  list(workspaceId: string): KeyRecord[] {
    return [...this.byId.values()].filter((k) => k.workspaceId === workspaceId);
  }
}
