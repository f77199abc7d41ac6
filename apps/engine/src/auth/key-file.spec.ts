import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyRing, hashKey, keyCreated, keyRevoked, recordOf } from './api-keys';
import { loadStaticKeys } from './key-file';

const NOW = '2026-01-01T00:00:00.000Z';

describe('static keys (keys.json and the environment)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'journey-keys-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const file = () => join(dir, 'keys.json');
  const seed = (env: { writeKey?: string; adminKey?: string } = {}) => ({ dataDir: dir, workspaceId: 'default', now: NOW, ...env });

  it('accepts a plaintext keys.json of older releases and rewrites it with hashes only (0600); the keys keep working, also after the next start', () => {
    writeFileSync(
      file(),
      JSON.stringify({
        keys: [
          { key: 'csm-secret-1234', workspaceId: 'acme', role: 'csm' },
          { key: 'an-analyst-key', workspaceId: 'acme-eu', role: 'analyst', name: 'Ann' },
        ],
      }),
    );
    const first = loadStaticKeys(seed({ writeKey: 'wk', adminKey: 'ak' }));
    expect(first.hashedFile).toBe(file());
    const text = readFileSync(file(), 'utf8');
    expect(text).not.toContain('csm-secret-1234');
    expect(text).not.toContain('an-analyst-key');
    expect(text).toContain(hashKey('csm-secret-1234'));
    expect(statSync(file()).mode & 0o777).toBe(0o600);
    for (const loaded of [first, loadStaticKeys(seed({ writeKey: 'wk', adminKey: 'ak' }))]) {
      const ring = new KeyRing(loaded.keys);
      expect(ring.byKeyHash(hashKey('csm-secret-1234'))).toMatchObject({
        workspaceId: 'acme',
        role: 'csm',
        lastFour: '1234',
        source: 'file',
      });
      expect(ring.byKeyHash(hashKey('an-analyst-key'))).toMatchObject({ workspaceId: 'acme-eu', role: 'analyst', name: 'Ann' });
      expect(ring.byKeyHash(hashKey('ak'))).toMatchObject({ workspaceId: 'default', role: 'admin', source: 'env' });
    }
  });

  it('without a file and a seed, generates a write and an admin key, returned once and stored only as hashes', () => {
    const loaded = loadStaticKeys(seed());
    expect(loaded.generated?.map((g) => g.role)).toEqual(['write', 'admin']);
    const text = readFileSync(file(), 'utf8');
    for (const g of loaded.generated!) {
      expect(text).not.toContain(g.key);
      expect(new KeyRing(loadStaticKeys(seed()).keys).byKeyHash(hashKey(g.key))?.role).toBe(g.role);
    }
    expect(loadStaticKeys(seed()).generated).toBeUndefined();
  });

  it('uses a plaintext file it cannot rewrite (a read-only mount) and says why', () => {
    writeFileSync(file(), JSON.stringify({ keys: [{ key: 'kept-key', workspaceId: 'default', role: 'csm' }] }));
    mkdirSync(`${file()}.${process.pid}.tmp`); // the rewrite's temporary file cannot be written (as with a read-only mount, even as root)
    const loaded = loadStaticKeys(seed({ writeKey: 'wk', adminKey: 'ak' }));
    expect(loaded.hashedFile).toBeUndefined();
    expect(loaded.rewriteError).toMatch(/EISDIR/);
    expect(readFileSync(file(), 'utf8')).toContain('kept-key');
    expect(new KeyRing(loaded.keys).byKeyHash(hashKey('kept-key'))?.role).toBe('csm');
  });

  it.each([
    [{ key: 'k', workspaceId: 'Acme Corp', role: 'csm' }, 'keys[0].workspaceId: must match'],
    [{ key: 'k', workspaceId: 'acme', role: 'root' }, 'keys[0].role: must be one of write, admin, csm, analyst'],
    [{ workspaceId: 'acme', role: 'csm', hash: 'md5:abc' }, 'keys[0]: needs "key"'],
    [{ key: 'k', workspaceId: 'acme', role: 'admin', memberId: 'sam' }, 'keys[0].memberId: only keys of role csm belong to a member'],
    [{ key: 'k', workspaceId: 'acme', role: 'csm', memberId: 'sam lee' }, 'keys[0].memberId: must be a member id'],
  ])('stops with a message naming the entry: %j', (entry, message) => {
    writeFileSync(file(), JSON.stringify({ keys: [entry] }));
    expect(() => loadStaticKeys(seed())).toThrow(message);
  });
});

describe('csm keys of a member', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'journey-keys-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("reads a csm key's memberId from keys.json and keeps it through the hashed rewrite", () => {
    writeFileSync(
      join(dir, 'keys.json'),
      JSON.stringify({ keys: [{ key: 'ck-of-sam', workspaceId: 'acme', role: 'csm', memberId: 'sam' }] }),
    );
    const seed = { dataDir: dir, workspaceId: 'default', now: NOW, writeKey: 'wk', adminKey: 'ak' };
    for (const loaded of [loadStaticKeys(seed), loadStaticKeys(seed)])
      expect(new KeyRing(loaded.keys).byKeyHash(hashKey('ck-of-sam'))).toMatchObject({ role: 'csm', memberId: 'sam' });
    expect(readFileSync(join(dir, 'keys.json'), 'utf8')).toContain('"memberId": "sam"');
  });

  it('carries the member in ApiKeyCreated, so every process folds the key with it', () => {
    const record = recordOf('api-key', { workspaceId: 'acme', role: 'csm', name: 'Lee', createdAt: NOW, source: 'api', memberId: 'lee' });
    const event = keyCreated(record, NOW);
    expect(event.data).toMatchObject({ role: 'csm', memberId: 'lee' });
    const ring = new KeyRing();
    ring.apply(event);
    expect(ring.byKeyHash(hashKey('api-key'))).toMatchObject({ memberId: 'lee' });
    const withoutMember = keyCreated(recordOf('other', { workspaceId: 'acme', role: 'admin', name: 'a', source: 'api' }), NOW);
    expect(withoutMember.data).not.toHaveProperty('memberId');
  });
});

describe('KeyRing', () => {
  it('folds key events over the static keys: created once, revoked for good (even if the file still lists the key)', () => {
    const fromFile = recordOf('file-key', { workspaceId: 'acme', role: 'admin', name: 'f', source: 'file' });
    const created = recordOf('api-key', { workspaceId: 'acme', role: 'csm', name: 'c', createdAt: NOW, source: 'api' });
    const ring = new KeyRing([fromFile]);
    ring.apply(keyCreated(created, NOW));
    ring.apply(keyCreated(created, NOW));
    expect(ring.list('acme').map((k) => k.id)).toEqual([fromFile.id, created.id]);
    expect(ring.list('acme-eu')).toEqual([]);
    ring.apply(keyRevoked('acme', { keyId: fromFile.id, reason: 'revoked', by: created.id }, NOW));
    ring.add(fromFile);
    expect(ring.byKeyHash(fromFile.hash)).toBeUndefined();
    expect(ring.get('acme-eu', created.id)).toBeUndefined();
    expect(ring.get('acme', created.id)?.role).toBe('csm');
  });
});
