import { Module } from '@nestjs/common';
import { SessionController } from './console.controller';

/** The web console: GET /v1/session for its sign-in; its files are served by serveConsole (serve-console.ts). */
@Module({ controllers: [SessionController] })
export class ConsoleModule {}
