import { Module } from '@nestjs/common';
import { LiveEventsController, SessionController } from './console.controller';
import { EventFeed } from './event-feed';

/**
 * The web console's API: GET /v1/session for its sign-in, GET /v1/events/stream for its live pages. Its files are
 * served by serveConsole (serve-console.ts).
 */
@Module({ controllers: [SessionController, LiveEventsController], providers: [EventFeed] })
export class ConsoleModule {}
