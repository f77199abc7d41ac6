import { Module } from '@nestjs/common';
import { ConversationsModule } from '../conversations/conversations.module';
import { ChangeOrganisationHandler, OrganisationQueryHandler } from './organisation.commands';
import { MembersController, TeamsController } from './teams.controller';

/** Teams and members over HTTP (/v1/teams, /v1/members), decided by the organisation decider. */
@Module({
  imports: [ConversationsModule],
  controllers: [TeamsController, MembersController],
  providers: [ChangeOrganisationHandler, OrganisationQueryHandler],
})
export class TeamsModule {}
