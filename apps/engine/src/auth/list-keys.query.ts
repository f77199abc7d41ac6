import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { KeyStore, type KeyView } from './key-store';

/** GET /v1/admin/keys: the workspace's keys in force (never their plaintext). */
export class ListKeysQuery extends Query<{ keys: KeyView[] }> {
  constructor(readonly workspaceId: string) {
    super();
  }
}

@QueryHandler(ListKeysQuery)
export class ListKeysHandler implements IQueryHandler<ListKeysQuery> {
  constructor(private readonly keys: KeyStore) {}

  async execute({ workspaceId }: ListKeysQuery): Promise<{ keys: KeyView[] }> {
    return { keys: await this.keys.list(workspaceId) };
  }
}
