import {
  ConflictException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { JourneyEvent } from '@journey/domain';
import { Backoff, EVENT_STORE, WrongExpectedRevisionError, type EventStore, type SubscriptionHandle } from '@journey/event-store';
import { ENGINE_CONFIG, type EngineConfig } from '../config';
import { HealthChecks } from '../operations/health';
import {
  KEY_EVENT_TYPES,
  KeyRing,
  generateKey,
  hashKey,
  keyCreated,
  keyRevoked,
  keysStreamId,
  recordOf,
  type KeyRecord,
  type KeyRole,
  type Principal,
} from './api-keys';
import { loadStaticKeys, type LoadedKeys } from './key-file';

export { KEY_ROLES, type KeyRole, type Principal } from './api-keys';

/** What the admin API shows of a key: never the key, nor its hash. */
export interface KeyView {
  id: string;
  role: KeyRole;
  name: string;
  lastFour: string;
  createdAt: string | null;
  source: KeyRecord['source'];
  /** A csm key's member (absent for keys without one). */
  memberId?: string;
}

const FILTER = { eventTypes: [...KEY_EVENT_TYPES] };
const PAGE = 1000;
/** Concurrent key changes of one workspace (in this process or another) are retried this many times. */
const CHANGE_ATTEMPTS = 5;

/**
 * The workspaces' keys, hashed at rest. Static keys come from `keys.json` and the environment (key-file.ts); keys
 * created, rotated and revoked over the admin API are events of the workspace's keys stream (`apikeys-<workspace>`),
 * which every process serving HTTP folds at start and then follows live, so a change takes effect in all of them.
 * A change is decided on the workspace stream read afresh and appended at its revision: two admins revoking the last
 * two admin keys at once in different processes cannot both win. Worker threads serve no HTTP and hold no keys.
 */
@Injectable()
export class KeyStore implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('keys');
  private readonly staticKeys: KeyRecord[] = [];
  private ring = new KeyRing();
  private position = 0n;
  private subscription?: SubscriptionHandle;
  private followError?: Error;
  /** Waits before following again after a failure: 500 ms doubling up to 30 s. */
  private readonly followBackoff = new Backoff(500, 30_000);
  private retryTimer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    @Inject(ENGINE_CONFIG) config: EngineConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly health: HealthChecks,
  ) {
    const loaded = loadStaticKeys({
      dataDir: config.dataDir,
      workspaceId: config.defaultWorkspace,
      writeKey: config.writeKey,
      adminKey: config.adminKey,
      now: now(),
    });
    announce(loaded);
    this.staticKeys = loaded.keys;
    this.ring = new KeyRing(this.staticKeys);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.catchUp();
    this.health.register('keys', async () => {
      if (this.followError) throw new Error(`not following key changes: ${this.followError.message}`);
    });
    this.follow();
  }

  /** Applies the key events of the log after the last one applied. */
  private async catchUp(): Promise<void> {
    for (;;) {
      const page = await this.store.readAll({ after: this.position, maxCount: PAGE, filter: FILTER });
      for (const e of page) this.ring.apply(e);
      if (page.length > 0) this.position = page[page.length - 1].position;
      if (page.length < PAGE) return;
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.subscription?.stop();
  }

  authenticate(key: string | undefined): Principal | undefined {
    if (!key) return undefined;
    const record = this.ring.byKeyHash(hashKey(key));
    return (
      record && {
        workspaceId: record.workspaceId,
        role: record.role,
        keyId: record.id,
        ...(record.memberId !== undefined && { memberId: record.memberId }),
      }
    );
  }

  async list(workspaceId: string): Promise<KeyView[]> {
    const { ring } = await this.workspace(workspaceId);
    return ring.list(workspaceId).map(view);
  }

  /** A new key; its plaintext is in the answer only. `memberId`: a csm key's member (checked by the caller). */
  async create(principal: Principal, fields: { role: KeyRole; name: string; memberId?: string }): Promise<{ key: string } & KeyView> {
    const key = generateKey(fields.role);
    const at = now();
    const record = recordOf(key, {
      workspaceId: principal.workspaceId,
      role: fields.role,
      name: fields.name,
      createdAt: at,
      source: 'api',
      ...(fields.memberId !== undefined && { memberId: fields.memberId }),
    });
    await this.change(principal.workspaceId, () => [keyCreated(record, at)]);
    return { key, ...view(record) };
  }

  /** A new key with the role and name of key `id`, which is revoked. */
  async rotate(principal: Principal, id: string): Promise<{ key: string; replaces: string } & KeyView> {
    const at = now();
    let created: { key: string; record: KeyRecord } | undefined;
    await this.change(principal.workspaceId, (ring) => {
      const old = this.target(ring, principal.workspaceId, id);
      const key = generateKey(old.role);
      created = {
        key,
        record: recordOf(key, {
          workspaceId: principal.workspaceId,
          role: old.role,
          name: old.name,
          createdAt: at,
          source: 'api',
          ...(old.memberId !== undefined && { memberId: old.memberId }),
        }),
      };
      return [
        keyCreated(created.record, at),
        keyRevoked(principal.workspaceId, { keyId: id, reason: 'rotated', replacedBy: created.record.id, by: principal.keyId }, at),
      ];
    });
    return { key: created!.key, replaces: id, ...view(created!.record) };
  }

  /** Revokes key `id`; the last admin key of a workspace cannot be revoked (409). */
  async revoke(principal: Principal, id: string): Promise<void> {
    await this.change(principal.workspaceId, (ring) => {
      const target = this.target(ring, principal.workspaceId, id);
      if (target.role === 'admin' && ring.list(principal.workspaceId).filter((k) => k.role === 'admin').length <= 1) {
        throw new ConflictException(
          `key ${id} is the last admin key of workspace "${principal.workspaceId}": create another admin key first (or rotate this one)`,
        );
      }
      return [keyRevoked(principal.workspaceId, { keyId: id, reason: 'revoked', by: principal.keyId }, now())];
    });
  }

  private target(ring: KeyRing, workspaceId: string, id: string): KeyRecord {
    const record = ring.get(workspaceId, id);
    if (!record) throw new NotFoundException(`id: no key "${id}" in workspace "${workspaceId}"`);
    return record;
  }

  /** The workspace's keys as its stream says now (not as the live fold may lag behind), and the stream's revision. */
  private async workspace(workspaceId: string): Promise<{ ring: KeyRing; revision: bigint | 'no_stream' }> {
    const events = await this.store.readStream(keysStreamId(workspaceId));
    const ring = new KeyRing(this.staticKeys);
    for (const e of events) ring.apply(e);
    return { ring, revision: events.length ? events[events.length - 1].revision : 'no_stream' };
  }

  /** Decides on the workspace's current keys and appends at the revision decided on; retried if another change won. */
  private async change(workspaceId: string, decide: (ring: KeyRing) => JourneyEvent[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const { ring, revision } = await this.workspace(workspaceId);
      const events = decide(ring);
      try {
        await this.store.appendToStream(keysStreamId(workspaceId), events, { expectedRevision: revision });
      } catch (error) {
        if (error instanceof WrongExpectedRevisionError && attempt < CHANGE_ATTEMPTS) continue;
        throw error;
      }
      for (const e of events) this.ring.apply(e); // at once here; the other processes follow the log
      return;
    }
  }

  private follow(): void {
    const subscription = this.store.subscribeToAll({ after: this.position, filter: FILTER }, (events) => {
      for (const e of events) this.ring.apply(e);
      this.position = events[events.length - 1].position;
    });
    this.subscription = subscription;
    subscription.done.then(
      () => undefined,
      (error: Error) => this.retry(error),
    );
  }

  /** Following failed: catch up again after a backoff (the store answering clears the error), then follow again. */
  private retry(error: Error): void {
    if (this.stopped) return;
    this.followError = error;
    const delay = this.followBackoff.next();
    this.logger.error(`following key changes failed (retrying in ${delay} ms): ${error.message}`);
    this.retryTimer = setTimeout(() => {
      if (this.stopped) return;
      this.catchUp().then(
        () => {
          this.followError = undefined;
          this.followBackoff.reset();
          this.follow();
        },
        (e: Error) => this.retry(e),
      );
    }, delay);
  }
}

const now = () => new Date().toISOString();

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

function view(r: KeyRecord): KeyView {
  return {
    id: r.id,
    role: r.role,
    name: r.name,
    lastFour: r.lastFour,
    createdAt: r.createdAt ?? null,
    source: r.source,
    ...(r.memberId !== undefined && { memberId: r.memberId }),
  };
}

/**
 * Keys generated at this start are printed here, once, on stdout (not in the JSON log): only their hashes are stored,
 * so this is the only time they can be read. Lost them? Set JOURNEY_ADMIN_KEY and restart, then manage keys over the
 * admin API.
 */
function announce(loaded: LoadedKeys): void {
  if (loaded.generated) {
    const lines = loaded.generated.map((g) => `journey:   ${g.role.padEnd(5)} key of workspace "${g.workspaceId}": ${g.key}`);
    console.log(
      [
        'journey: created the first keys; they are shown this once only (keys.json keeps their hashes):',
        ...lines,
        'journey: keep them now. Lost? Set JOURNEY_ADMIN_KEY and restart; manage keys with POST /v1/admin/keys.',
      ].join('\n'),
    );
  }
  if (loaded.hashedFile)
    console.log(`journey: ${loaded.hashedFile} held plaintext keys: rewritten with their SHA-256 hashes (the keys keep working)`);
  if (loaded.rewriteError)
    console.warn(
      `journey: keys.json holds plaintext keys and could not be rewritten hashed (${loaded.rewriteError}); replace each "key" by its "hash" (see deploy/configuration.md)`,
    );
}
