import { Module } from '@nestjs/common';
import { DeadLettersController } from './dead-letters.controller';

/** The admin API of dead letters (the subscribers record them; see FailurePolicy in @journey/event-store). */
@Module({ controllers: [DeadLettersController] })
export class DeadLettersModule {}
