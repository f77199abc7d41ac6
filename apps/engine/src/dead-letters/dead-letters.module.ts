import { Module } from '@nestjs/common';
import { DeadLettersController } from './dead-letters.controller';
import { ListDeadLettersHandler } from './list-dead-letters.query';
import { RetryDeadLetterHandler } from './retry-dead-letter.command';

/** The admin API of dead letters (the subscribers record them; see FailurePolicy in @journey/event-store). */
@Module({ controllers: [DeadLettersController], providers: [ListDeadLettersHandler, RetryDeadLetterHandler] })
export class DeadLettersModule {}
