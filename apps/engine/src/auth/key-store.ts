import { randomBytes, createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { join } from 'node:path';

export const KEY_ROLES = ['write', 'admin', 'csm', 'analyst'] as const;
export type KeyRole = (typeof KEY_ROLES)[number];

export interface ApiKey {
  key: string;
  workspaceId: string;
  role: KeyRole;
}

export interface Principal {
  workspaceId: string;
  role: KeyRole;
}

/**
 * Workspace keys. The embedded default seeds the default workspace from JOURNEY_WRITE_KEY / JOURNEY_ADMIN_KEY; without
 * them it creates keys on first start and keeps them in `<dataDir>/keys.json` (mode 0600). More keys (other
 * workspaces, csm and analyst roles) go in that file.
 */
export class KeyStore {
  private readonly byHash = new Map<string, Principal>();

  constructor(keys: ApiKey[]) {
    for (const k of keys) {
      if (!(KEY_ROLES as readonly string[]).includes(k.role)) throw new Error(`key for workspace ${k.workspaceId}: unknown role "${k.role}"`);
      this.byHash.set(hash(k.key), { workspaceId: k.workspaceId, role: k.role });
    }
  }

  static load(options: { dataDir: string; workspaceId: string; writeKey?: string; adminKey?: string }): { store: KeyStore; createdFile?: string } {
    const file = join(options.dataDir, 'keys.json');
    let keys: ApiKey[] = [];
    let createdFile: string | undefined;
    if (existsSync(file)) {
      keys = (JSON.parse(readFileSync(file, 'utf8')) as { keys: ApiKey[] }).keys;
    } else if (!options.writeKey || !options.adminKey) {
      keys = [
        { key: `wk_${randomBytes(18).toString('base64url')}`, workspaceId: options.workspaceId, role: 'write' },
        { key: `ak_${randomBytes(18).toString('base64url')}`, workspaceId: options.workspaceId, role: 'admin' },
      ];
      mkdirSync(options.dataDir, { recursive: true });
      writeFileSync(file, JSON.stringify({ keys }, null, 2));
      chmodSync(file, 0o600);
      createdFile = file;
    }
    if (options.writeKey) keys.push({ key: options.writeKey, workspaceId: options.workspaceId, role: 'write' });
    if (options.adminKey) keys.push({ key: options.adminKey, workspaceId: options.workspaceId, role: 'admin' });
    return { store: new KeyStore(keys), createdFile };
  }

  authenticate(key: string | undefined): Principal | undefined {
    if (!key) return undefined;
    return this.byHash.get(hash(key));
  }
}

function hash(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Reads the key from `Authorization: Basic base64(key:)` (Segment's write key) or `Authorization: Bearer key`. */
export function keyFromAuthorization(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value] = header.split(' ', 2);
  if (!value) return undefined;
  if (/^bearer$/i.test(scheme)) return value.trim();
  if (/^basic$/i.test(scheme)) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1 ? decoded : decoded.slice(0, colon);
  }
  return undefined;
}

