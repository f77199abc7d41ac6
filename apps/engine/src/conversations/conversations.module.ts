import { Module } from '@nestjs/common';
import { ProjectionsModule } from '../projections/projections.module';
import { ConversationsService } from './conversations.service';
import { LiveConversations } from './live-conversations';
import { OrganisationService, SettingsService } from './organisation.service';
import { QueuePickupWorker } from './queue-pickup';
import { SettingsController } from './settings.controller';

/**
 * Conversations, tasks, teams and workspace settings: the services every inbound path (in-app, email, Slack, the HTTP
 * actions) and the reactors change them through, and the live feed of the SSE streams.
 */
@Module({
  imports: [ProjectionsModule], // the work read model, for the queue pickup
  controllers: [SettingsController],
  providers: [ConversationsService, OrganisationService, SettingsService, LiveConversations, QueuePickupWorker],
  exports: [ConversationsService, OrganisationService, SettingsService, LiveConversations],
})
export class ConversationsModule {}
