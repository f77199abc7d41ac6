import { Module } from '@nestjs/common';
import { REACTORS, SegmentReactor, type SegmentAudience } from '@journey/reactors';
import {
  CUSTOMERS,
  READ_MODEL_STORE,
  SEGMENT_MEMBERS,
  segmentMembersProjection,
  customersProjection,
  type FieldValue,
  type FindOptions,
  type ReadModelStore,
} from '@journey/read-models';
import { ProjectionsModule } from '../projections/projections.module';
import { SegmentsController } from './segments.controller';
import { SegmentsService } from './segments.service';

/** A find on a collection that may not exist yet: none. */
async function ids(store: ReadModelStore, collection: string, where: Record<string, FieldValue>, options: FindOptions): Promise<string[]> {
  try {
    return (await store.find<{ customerId: string }>(collection, where, options)).map((d) => d.doc.customerId);
  } catch (error) {
    if (/no such table/i.test((error as Error).message)) return [];
    throw error;
  }
}

/**
 * Who a segment's backfill evaluates, from the read models: the workspace's customers (`customers`, by id) for a new
 * version, the segment's members (`segment_members`) for a removal; each waits for its projection to have applied the
 * change's position, so no customer whose events precede the change is missed.
 */
export const segmentAudience = (store: ReadModelStore): SegmentAudience => {
  const page = (after: string, limit: number): FindOptions => ({
    orderBy: ['customerId'],
    limit,
    ...(after !== '' && { after: { field: 'customerId', value: after } }),
  });
  return {
    customers: (workspaceId, after, limit) => ids(store, CUSTOMERS, { workspaceId }, page(after, limit)),
    members: (workspaceId, segmentId, after, limit) =>
      ids(store, SEGMENT_MEMBERS, { workspaceId, segmentId, member: 1 }, page(after, limit)),
    caughtUp: async (position, of) =>
      (await store.checkpoint(of === 'SegmentDefined' ? customersProjection.name : segmentMembersProjection.name)) >= position,
  };
};

/**
 * Named segments: definitions over HTTP (through the definition decider, into the segment streams), the SegmentReactor
 * that keeps membership (registered under REACTORS, run by ReactorsModule in the `reactor` role), members and daily
 * counts from the `segment-members` read model.
 */
@Module({
  imports: [ProjectionsModule],
  controllers: [SegmentsController],
  providers: [
    SegmentsService,
    {
      provide: REACTORS,
      inject: [READ_MODEL_STORE],
      useFactory: (readModels: ReadModelStore) => new SegmentReactor(segmentAudience(readModels)),
    },
  ],
})
export class SegmentsModule {}
