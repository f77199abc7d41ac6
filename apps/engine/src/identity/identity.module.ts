import { Global, Module } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { IdentityDirectory, IdentityMergeReactor, REACTORS } from '@journey/reactors';

/**
 * Identity merge (#12): the alias map (`IdentityDirectory`, read by ingestion to route calls under a merged id and
 * to claim merges) and the merge reactor (copies the merged id's history in batches, closes its stream, forwards
 * what still lands there, forgets every id of a forgotten customer). See `@journey/domain` identity.ts.
 */
@Global()
@Module({
  providers: [
    { provide: IdentityDirectory, inject: [EVENT_STORE], useFactory: (store: EventStore) => new IdentityDirectory(store) },
    {
      provide: REACTORS,
      inject: [IdentityDirectory],
      useFactory: (directory: IdentityDirectory) => [new IdentityMergeReactor(directory)],
    },
  ],
  exports: [IdentityDirectory],
})
export class IdentityModule {}
