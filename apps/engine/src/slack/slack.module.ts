import { Module } from '@nestjs/common';
import { ConversationsModule } from '../conversations/conversations.module';
import { SlackController } from './slack.controller';
import { SlackService } from './slack.service';
import { SlackThreads } from './slack-threads';

/** Slack's inbound side: interactivity and Events API requests, signed, changing conversations as the member who acted. */
@Module({
  imports: [ConversationsModule],
  controllers: [SlackController],
  providers: [SlackService, SlackThreads],
})
export class SlackModule {}
