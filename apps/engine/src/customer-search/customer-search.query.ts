import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { CustomerState } from '@journey/domain';
import { CUSTOMERS_COLLECTION, READ_MODEL_STORE, type ReadModelStore, type SearchQuery } from '@journey/read-models';
import { encodeCursor } from './search-params';

/** One customer of a search page. */
export type CustomerHit = Pick<
  CustomerState,
  'customerId' | 'stage' | 'stageSince' | 'traits' | 'accounts' | 'segments' | 'health' | 'firstSeen' | 'lastSeen'
>;

export interface CustomerSearchPage {
  items: CustomerHit[];
  /** Give it as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
  /** With `count`: the customers matching (all pages), at most the bound of a bounded count. */
  total?: number;
  /** With a bounded count: true when more match than the bound. */
  totalCapped?: boolean;
}

/** GET /v1/customers?…: a page of the workspace's customers from the customers model's search index. */
export class CustomerSearchQuery extends Query<CustomerSearchPage> {
  constructor(
    readonly workspaceId: string,
    readonly search: Omit<SearchQuery, 'partition'>,
    readonly signature: string,
  ) {
    super();
  }
}

@QueryHandler(CustomerSearchQuery)
export class CustomerSearchHandler implements IQueryHandler<CustomerSearchQuery> {
  constructor(@Inject(READ_MODEL_STORE) private readonly store: ReadModelStore) {}

  async execute({ workspaceId, search, signature }: CustomerSearchQuery): Promise<CustomerSearchPage> {
    // the partition is the caller's workspace, always: no search reaches another
    const page = await this.store.search<CustomerState>(CUSTOMERS_COLLECTION, { ...search, partition: workspaceId });
    const last = page.hits[page.hits.length - 1];
    return {
      items: page.hits.map(({ doc: d }) => ({
        customerId: d.customerId,
        stage: d.stage,
        stageSince: d.stageSince,
        traits: d.traits,
        accounts: d.accounts,
        segments: d.segments ?? [],
        health: d.health,
        firstSeen: d.firstSeen,
        lastSeen: d.lastSeen,
      })),
      ...(page.more && last && { nextCursor: encodeCursor(signature, last.sortValue, last.key) }),
      ...(page.total !== undefined && { total: page.total }),
      ...(page.totalCapped !== undefined && { totalCapped: page.totalCapped }),
    };
  }
}
