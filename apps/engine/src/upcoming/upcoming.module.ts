import { Module } from '@nestjs/common';
import { UpcomingController } from './upcoming.controller';
import { UpcomingHandler } from './upcoming.query';

/** A customer's forward timeline (GET /v1/customers/:id/upcoming): pending timers and what the triggers would decide. */
@Module({ controllers: [UpcomingController], providers: [UpcomingHandler] })
export class UpcomingModule {}
