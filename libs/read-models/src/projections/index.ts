import type { Projection } from '../projection';
import { broadcastAnalyticsProjection } from './broadcast-analytics.projection';
import { conversationAnalyticsProjection } from './conversation-analytics.projection';
import { customersProjection } from './customers.projection';
import { segmentMembersProjection } from './segment-members.projection';
import { stageAnalyticsProjection } from './stage-analytics.projection';
import { triggerAnalyticsProjection } from './trigger-analytics.projection';
import { workProjection } from './work.projection';

export * from './broadcast-analytics.projection';
export * from './conversation-analytics.projection';
export * from './conversation-figures';
export * from './customers.projection';
export * from './segment-members.projection';
export * from './stage-analytics.projection';
export * from './trigger-analytics.projection';
export * from './trigger-lift';
export * from './work.projection';

/** Every projection the engine runs, by name. */
export const PROJECTIONS: readonly Projection[] = [
  customersProjection,
  stageAnalyticsProjection,
  triggerAnalyticsProjection,
  conversationAnalyticsProjection,
  workProjection,
  broadcastAnalyticsProjection,
  segmentMembersProjection,
];
