import type { SegmentMembers } from '@journey/reactors';
import type { ReadModelStore } from '@journey/read-models';

/** A read model collection that does not exist yet (SQLite: no table until its projection first ran). */
export const missingTable = (error: unknown) => /no such table|does not exist/i.test((error as Error).message);

/** The segments' read model of current members (contract shared with the segments feature, see COMMON.md). */
export const SEGMENT_MEMBERS = 'segment_members';

/**
 * The segment's current members from the `segment_members` read model (the segments feature's projection: one
 * document per customer who entered, fields workspaceId, segmentId, customerId, enteredAt, `member: 1` while in it, 0
 * once left; index workspaceId, segmentId, member, customerId), a page at a time by customer id. No members while the
 * collection does not exist yet. Each member is checked against their stream (SegmentEntered/SegmentLeft) anyway.
 */
export const segmentMembers = (readModels: ReadModelStore): SegmentMembers => ({
  async page(workspaceId, segmentId, after, limit) {
    try {
      const docs = await readModels.find<{ customerId: string; member?: number }>(
        SEGMENT_MEMBERS,
        { workspaceId, segmentId, member: 1 },
        { orderBy: ['customerId'], limit, ...(after !== undefined ? { after: { field: 'customerId', value: after } } : {}) },
      );
      return docs.map((d) => d.doc.customerId);
    } catch (error) {
      if (missingTable(error)) return [];
      throw error;
    }
  },
});
