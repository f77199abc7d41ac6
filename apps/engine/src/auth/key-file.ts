import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ORG_ID } from '@journey/domain';
import { KEY_ROLES, MEMBER_ROLES, generateKey, keyIdOf, recordOf, workspaceIdError, type KeyRecord, type KeyRole } from './api-keys';

export const KEYS_FILE = 'keys.json';

/** What `keys.json` holds: plaintext entries (`key`, as before) are accepted and rewritten as hashed ones (`hash`). */
interface FileEntry {
  key?: unknown;
  hash?: unknown;
  id?: unknown;
  workspaceId?: unknown;
  role?: unknown;
  name?: unknown;
  lastFour?: unknown;
  createdAt?: unknown;
  memberId?: unknown;
}

export interface LoadedKeys {
  keys: KeyRecord[];
  /** Keys generated at this start (no file, no seed in the environment): shown once, never stored in plaintext. */
  generated?: Array<{ key: string; role: KeyRole; workspaceId: string }>;
  /** The file, when this start rewrote its plaintext keys as hashes. */
  hashedFile?: string;
  /** Why plaintext keys in the file could not be rewritten hashed (e.g. a read-only Secret mount). */
  rewriteError?: string;
}

export interface KeySeed {
  dataDir: string;
  workspaceId: string;
  writeKey?: string;
  adminKey?: string;
  now: string;
}

/**
 * The static keys: `<dataDir>/keys.json` plus JOURNEY_WRITE_KEY / JOURNEY_ADMIN_KEY for the default workspace. Without
 * the file and without both variables, fresh write and admin keys are generated and only their hashes stored. A file
 * with plaintext keys (older releases wrote those) is rewritten with hashes (mode 0600, atomically); if it cannot be
 * (read-only mount), it is used as it is.
 */
export function loadStaticKeys(seed: KeySeed): LoadedKeys {
  const file = join(seed.dataDir, KEYS_FILE);
  const result: LoadedKeys = { keys: [] };
  if (existsSync(file)) {
    const { records, plaintext } = parseKeyFile(readFileSync(file, 'utf8'), file);
    result.keys.push(...records);
    if (plaintext) {
      try {
        writeKeyFile(file, records);
        result.hashedFile = file;
      } catch (error) {
        result.rewriteError = (error as Error).message;
      }
    }
  } else if (!seed.writeKey || !seed.adminKey) {
    result.generated = (['write', 'admin'] as const).map((role) => ({ key: generateKey(role), role, workspaceId: seed.workspaceId }));
    const records = result.generated.map((g) =>
      recordOf(g.key, { workspaceId: g.workspaceId, role: g.role, name: `generated ${g.role} key`, createdAt: seed.now, source: 'file' }),
    );
    mkdirSync(seed.dataDir, { recursive: true });
    writeKeyFile(file, records);
    result.keys.push(...records);
  }
  if (seed.writeKey)
    result.keys.push(recordOf(seed.writeKey, { workspaceId: seed.workspaceId, role: 'write', name: 'JOURNEY_WRITE_KEY', source: 'env' }));
  if (seed.adminKey)
    result.keys.push(recordOf(seed.adminKey, { workspaceId: seed.workspaceId, role: 'admin', name: 'JOURNEY_ADMIN_KEY', source: 'env' }));
  return result;
}

/** Parses `keys.json`; a malformed entry stops the start with a message naming it. */
export function parseKeyFile(text: string, file: string): { records: KeyRecord[]; plaintext: boolean } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const entries = (parsed as { keys?: unknown })?.keys;
  if (!Array.isArray(entries)) throw new Error(`${file}: expected { "keys": [ ... ] }`);
  let plaintext = false;
  const records = entries.map((entry: FileEntry, i): KeyRecord => {
    const where = `${file}: keys[${i}]`;
    if (typeof entry !== 'object' || entry === null) throw new Error(`${where}: must be an object`);
    const wsError = workspaceIdError(entry.workspaceId);
    if (wsError) throw new Error(`${where}.workspaceId: ${wsError}`);
    if (!(KEY_ROLES as readonly unknown[]).includes(entry.role))
      throw new Error(`${where}.role: must be one of ${KEY_ROLES.join(', ')}, got ${JSON.stringify(entry.role)}`);
    if (entry.name !== undefined && typeof entry.name !== 'string') throw new Error(`${where}.name: must be a string`);
    if (entry.memberId !== undefined) {
      if (!MEMBER_ROLES.includes(entry.role as KeyRole))
        throw new Error(
          `${where}.memberId: only keys of role ${MEMBER_ROLES.join(', ')} belong to a member, this one has role ${String(entry.role)}`,
        );
      if (typeof entry.memberId !== 'string' || !ORG_ID.test(entry.memberId))
        throw new Error(`${where}.memberId: must be a member id matching ${ORG_ID.source}, got ${JSON.stringify(entry.memberId)}`);
    }
    const fields = {
      workspaceId: entry.workspaceId as string,
      role: entry.role as KeyRole,
      name: (entry.name as string | undefined) ?? '',
      source: 'file' as const,
      ...(typeof entry.memberId === 'string' && { memberId: entry.memberId }),
    };
    const createdAt = typeof entry.createdAt === 'string' ? entry.createdAt : undefined;
    if (typeof entry.key === 'string' && entry.key.length > 0) {
      plaintext = true;
      return { ...recordOf(entry.key, fields), ...(createdAt && { createdAt }) };
    }
    if (typeof entry.hash !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(entry.hash)) {
      throw new Error(
        `${where}: needs "key" (the key; rewritten as its hash at start) or "hash" ("sha256:" and the 64 hex digits of the key's SHA-256)`,
      );
    }
    return {
      id: keyIdOf(entry.hash),
      hash: entry.hash,
      lastFour: typeof entry.lastFour === 'string' ? entry.lastFour : '',
      ...fields,
      ...(createdAt && { createdAt }),
    };
  });
  return { records, plaintext };
}

function writeKeyFile(file: string, records: KeyRecord[]): void {
  const keys = records.map((r) => ({
    id: r.id,
    hash: r.hash,
    lastFour: r.lastFour,
    workspaceId: r.workspaceId,
    role: r.role,
    name: r.name,
    ...(r.createdAt && { createdAt: r.createdAt }),
    ...(r.memberId !== undefined && { memberId: r.memberId }),
  }));
  const temp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, JSON.stringify({ keys }, null, 2) + '\n', { mode: 0o600 });
    chmodSync(temp, 0o600);
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
