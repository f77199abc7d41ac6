import { Module } from '@nestjs/common';
import { ConversationsModule } from '../conversations/conversations.module';
import {
  ConversationActionHandler,
  GetConversationHandler,
  ListConversationsHandler,
  StartConversationHandler,
  TaskActionHandler,
} from './conversation.commands';
import { ConversationsController, TasksController } from './conversations.controller';

/** The CSM's actions over HTTP: a customer's conversations (read, start, reply, note, assign, snooze, resolve, reopen) and tasks. */
@Module({
  imports: [ConversationsModule],
  controllers: [ConversationsController, TasksController],
  providers: [ConversationActionHandler, StartConversationHandler, TaskActionHandler, ListConversationsHandler, GetConversationHandler],
})
export class ConversationsApiModule {}
