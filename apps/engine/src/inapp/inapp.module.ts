import { Module } from '@nestjs/common';
import { ConversationsModule } from '../conversations/conversations.module';
import { ClientStreams } from './client-streams';
import { InAppController } from './inapp.controller';
import { InAppGuard } from './inapp.guard';
import { InAppService } from './inapp.service';

/**
 * The in-app channel, two-way: the customer's own client reads its inbox and conversations, replies, rates, and
 * listens for answers (SSE), authenticated by a customer token (deploy/in-app.md).
 */
@Module({
  imports: [ConversationsModule],
  controllers: [InAppController],
  providers: [InAppService, InAppGuard, ClientStreams],
})
export class InAppModule {}
