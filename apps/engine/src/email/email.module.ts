import { Module } from '@nestjs/common';
import { EmailRepliesReactor, REACTORS } from '@journey/reactors';
import { ConversationsModule } from '../conversations/conversations.module';
import { EmailInboundService } from './email-inbound';
import { EmailThreadingService } from './email-threading';
import { PostmarkInboundController } from './postmark.controller';
import { SmtpInboundListener } from './smtp-inbound';

/**
 * Two-way email (deploy/email.md): the threading of outgoing mail (reply addresses, In-Reply-To), and inbound mail
 * through the SMTP listener (JOURNEY_SMTP_INBOUND_PORT) or Postmark's inbound webhook, into conversations, and the
 * reactor that sends agent replies of email conversations by email.
 */
@Module({
  imports: [ConversationsModule],
  controllers: [PostmarkInboundController],
  providers: [
    EmailThreadingService,
    EmailInboundService,
    SmtpInboundListener,
    // run by ReactorsModule (registeredReactors() discovers every REACTORS provider)
    { provide: REACTORS, useFactory: () => new EmailRepliesReactor() },
  ],
  exports: [EmailThreadingService],
})
export class EmailModule {}
