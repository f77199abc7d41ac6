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
import CsmTaskClosedV1 from './journey.CsmTaskClosed.v1.schema.json';
import CsmTaskAssigned from './journey.CsmTaskAssigned.schema.json';
import ConversationStarted from './journey.ConversationStarted.schema.json';
import CustomerReplied from './journey.CustomerReplied.schema.json';
import AgentReplied from './journey.AgentReplied.schema.json';
import InternalNoteAdded from './journey.InternalNoteAdded.schema.json';
import ConversationAssigned from './journey.ConversationAssigned.schema.json';
import ConversationTagged from './journey.ConversationTagged.schema.json';
import ConversationSnoozed from './journey.ConversationSnoozed.schema.json';
import ConversationResolved from './journey.ConversationResolved.schema.json';
import ConversationReopened from './journey.ConversationReopened.schema.json';
import SatisfactionRated from './journey.SatisfactionRated.schema.json';
import SlaBreached from './journey.SlaBreached.schema.json';

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
  CsmTaskAssigned,
  ConversationStarted,
  CustomerReplied,
  AgentReplied,
  InternalNoteAdded,
  ConversationAssigned,
  ConversationTagged,
  ConversationSnoozed,
  ConversationResolved,
  ConversationReopened,
  SatisfactionRated,
  SlaBreached,
};

/**
 * Earlier versions of the schemas, still published for consumers that validate what they stored before an upgrade
 * (`journey.CsmTaskClosed:v1`: before `outcome` and `by`). The engine publishes only the current versions.
 */
export const PREVIOUS_INTEGRATION_EVENT_SCHEMAS: readonly object[] = [CsmTaskClosedV1];
