import type { PublishedEventType } from '../outbox/integration-events';
import cloudEvent from './cloudevent.schema.json';
import CustomerIdentified from './journey.CustomerIdentified.schema.json';
import TraitsUpdated from './journey.TraitsUpdated.schema.json';
import InteractionRecorded from './journey.InteractionRecorded.schema.json';
import PageViewed from './journey.PageViewed.schema.json';
import AccountLinked from './journey.AccountLinked.schema.json';
import IdentitiesMerged from './journey.IdentitiesMerged.schema.json';
import CustomerForgotten from './journey.CustomerForgotten.schema.json';
import StageChanged from './journey.StageChanged.schema.json';
import MessageScheduled from './journey.MessageScheduled.schema.json';
import MessageSent from './journey.MessageSent.schema.json';
import MessageDelivered from './journey.MessageDelivered.schema.json';
import MessageFailed from './journey.MessageFailed.schema.json';
import MessageSuppressed from './journey.MessageSuppressed.schema.json';
import MessageOpened from './journey.MessageOpened.schema.json';
import MessageClicked from './journey.MessageClicked.schema.json';
import CsmTaskOpened from './journey.CsmTaskOpened.schema.json';
import CsmTaskClosed from './journey.CsmTaskClosed.schema.json';

/** JSON Schema (2020-12) of the attributes every integration event carries; the per-type schemas `$ref` it. */
export const CLOUDEVENT_SCHEMA: object = cloudEvent;

/** One JSON Schema per published event type; `$id` is the `dataschema` URI the events carry. */
export const INTEGRATION_EVENT_SCHEMAS: Record<PublishedEventType, object> = {
  CustomerIdentified,
  TraitsUpdated,
  InteractionRecorded,
  PageViewed,
  AccountLinked,
  IdentitiesMerged,
  CustomerForgotten,
  StageChanged,
  MessageScheduled,
  MessageSent,
  MessageDelivered,
  MessageFailed,
  MessageSuppressed,
  MessageOpened,
  MessageClicked,
  CsmTaskOpened,
  CsmTaskClosed,
};
