import {
  claimEvents,
  customerStreamId,
  decideAlias,
  identityRole,
  identityStreamId,
  type AliasDecision,
  type Claim,
  type ClaimFields,
  type IdentityRole,
} from '@journey/domain';
import { WrongExpectedRevisionError, type AppendRequest, type EventStore } from '@journey/event-store';

/** Ids whose role is kept in memory (least recently used dropped first). */
export const DEFAULT_IDENTITY_CACHE = 100_000;
/** How long "not merged" is believed without reading again (another process may merge it meanwhile). */
export const DEFAULT_UNMERGED_TTL_MS = 10_000;
const CLAIM_ATTEMPTS = 3;

interface Cached {
  role: IdentityRole;
  /** For `none` only: read again after this (ms since epoch). */
  until?: number;
}

/**
 * The alias map of every workspace (identity merge, #12), durable in the `identity-<ws>-<id>` streams (see
 * `@journey/domain` identity.ts): an id's role is the first event of its stream, read once (one indexed read) and kept
 * in an LRU of `cacheSize` ids. An alias or a target never changes role, so those are kept until dropped; "not merged"
 * is believed for `unmergedTtlMs` only, since another process may merge the id (a call it routes late lands on the
 * closed stream and is forwarded by the merge reactor: nothing is lost, it only takes longer).
 */
export class IdentityDirectory {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly store: EventStore,
    private readonly options: { cacheSize?: number; unmergedTtlMs?: number; now?: () => number } = {},
  ) {}

  /** The role kept in memory, if any (no read: ingestion's hot path awaits only on a miss). */
  peek(workspaceId: string, id: string): IdentityRole | undefined {
    const hit = this.cache.get(`${workspaceId}\u001f${id}`);
    return hit && (hit.until === undefined || hit.until > (this.options.now ?? Date.now)()) ? hit.role : undefined;
  }

  /** What `id` is in merges. */
  async role(workspaceId: string, id: string, fresh = false): Promise<IdentityRole> {
    const key = `${workspaceId}\u001f${id}`;
    const now = (this.options.now ?? Date.now)();
    const hit = fresh ? undefined : this.cache.get(key);
    if (hit && (hit.until === undefined || hit.until > now)) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit.role;
    }
    const [first] = await this.store.readStream(identityStreamId(workspaceId, id), { maxCount: 1 });
    const role = identityRole(first);
    this.remember(workspaceId, id, role, now);
    return role;
  }

  /** The customer calls under `id` belong to: the one it was merged into, else itself. */
  async resolve(workspaceId: string, id: string): Promise<string> {
    const role = await this.role(workspaceId, id);
    return role.kind === 'alias' ? role.userId : id;
  }

  /** Whether the id has a customer stream (an `identify`'s anonymousId is merged only when it is known). */
  async known(workspaceId: string, id: string): Promise<boolean> {
    return (await this.store.readStream(customerStreamId(workspaceId, id), { maxCount: 1 })).length > 0;
  }

  /** The ids merged into `target` (from its identity stream, each checked against its own claim). */
  async aliases(workspaceId: string, target: string): Promise<string[]> {
    const events = await this.store.readStream(identityStreamId(workspaceId, target));
    const out: string[] = [];
    for (const e of events) {
      if (e.type !== 'IdentityAliasAdded') continue;
      const previousId = String(e.data.previousId);
      const role = await this.role(workspaceId, previousId);
      if (role.kind === 'alias' && role.userId === target && !out.includes(previousId)) out.push(previousId);
    }
    return out;
  }

  /**
   * Decides the merge of `previousId` into `userId` (see `decideAlias`) and plans its claim, without appending: the
   * target's marker (expected `no_stream` when the target has no identity stream yet, so it cannot have become an
   * alias meanwhile) and the claim (expected `no_stream`, so of concurrent merges of one id exactly one is stored). The
   * caller appends `appends` with what the call records (one transaction in SQLite), then calls `committed`; on a
   * WrongExpectedRevisionError it decides again with `fresh` roles. `planned`: roles decided earlier in the same request.
   */
  async plan(
    workspaceId: string,
    previousId: string,
    userId: string,
    at: ClaimFields,
    options: { fresh?: boolean; planned?: Map<string, IdentityRole> } = {},
  ): Promise<AliasDecision & { claim?: Claim; appends: AppendRequest[] }> {
    const role = async (id: string) => options.planned?.get(id) ?? (await this.role(workspaceId, id, options.fresh));
    const previous = await role(previousId);
    const user = await role(userId);
    const decision = decideAlias(previousId, userId, previous, user);
    if (decision.kind !== 'merge') return { ...decision, appends: [] };
    const root = decision.userId;
    const rootRole = root === userId ? user : await role(root);
    const { started, added } = claimEvents(workspaceId, previousId, root, at);
    options.planned?.set(previousId, { kind: 'alias', userId: root });
    options.planned?.set(root, { kind: 'target' });
    return {
      ...decision,
      claim: started,
      appends: [
        {
          streamId: identityStreamId(workspaceId, root),
          events: [added],
          expectedRevision: rootRole.kind === 'none' ? 'no_stream' : 'any',
        },
        { streamId: identityStreamId(workspaceId, previousId), events: [started], expectedRevision: 'no_stream' },
      ],
    };
  }

  /** After the claims of `planned` are stored: their roles are known. */
  committed(workspaceId: string, planned: Map<string, IdentityRole>): void {
    const now = (this.options.now ?? Date.now)();
    for (const [id, role] of planned) this.remember(workspaceId, id, role, now);
  }

  /** Plans and stores a merge alone (the claim only), deciding again after a concurrent one. */
  async merge(workspaceId: string, previousId: string, userId: string, at: ClaimFields): Promise<AliasDecision & { claim?: Claim }> {
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const planned = new Map<string, IdentityRole>();
      const { appends, ...decision } = await this.plan(workspaceId, previousId, userId, at, { fresh: attempt > 0, planned });
      if (decision.kind !== 'merge') return decision;
      try {
        for (const append of appends) await this.store.appendToStream(append.streamId, append.events, append);
      } catch (error) {
        if (error instanceof WrongExpectedRevisionError) continue;
        throw error;
      }
      this.committed(workspaceId, planned);
      return decision;
    }
    return { kind: 'refused', message: `"${previousId}" is being merged by another call at the same time: retry` };
  }

  private remember(workspaceId: string, id: string, role: IdentityRole, now: number): void {
    const key = `${workspaceId}\u001f${id}`;
    this.cache.delete(key);
    this.cache.set(key, role.kind === 'none' ? { role, until: now + (this.options.unmergedTtlMs ?? DEFAULT_UNMERGED_TTL_MS) } : { role });
    if (this.cache.size > (this.options.cacheSize ?? DEFAULT_IDENTITY_CACHE)) this.cache.delete(this.cache.keys().next().value!);
  }
}
