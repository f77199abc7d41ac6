import { isUtf8 } from 'node:buffer';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import helmet from 'helmet';
import { AppModule } from './app.module';
import { enableCors } from './auth/cors';
import { ENGINE_CONFIG, type EngineConfig } from './config';
import { serveConsole } from './console/serve-console';
import { SettingsService } from './conversations/organisation.service';
import { HttpErrorsFilter } from './http-errors.filter';
import { YAML_TYPES } from './triggers/triggers.controller';
import { PinoNestLogger, createLogger } from './logger';

export const BODY_LIMIT = '500kb';

/**
 * A UTF-8 body must be valid UTF-8: decoding would replace each bad byte with U+FFFD, silently changing what the client
 * sent (two messageIds differing only there would become one event). A 400 (HttpErrorsFilter).
 */
function requireUtf8(_req: unknown, _res: unknown, body: Buffer, encoding: string): void {
  if (/^utf-?8$/i.test(encoding) && !isUtf8(body))
    throw Object.assign(new Error('the request body is not valid UTF-8'), { status: 400, type: 'encoding.invalid' });
}

/** Builds the engine application (used by main.ts and by the end-to-end tests). */
export async function createEngineApp(options: { logLevel?: string } = {}): Promise<NestExpressApplication> {
  const logger = createLogger(options.logLevel ?? process.env.LOG_LEVEL ?? 'info');
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { logger: new PinoNestLogger(logger), bodyParser: false });
  app.use(helmet()); // security headers; it also removes X-Powered-By
  const settings = app.get(SettingsService);
  enableCors(app, app.get<EngineConfig>(ENGINE_CONFIG).corsOrigins, async (workspaceId) => {
    return (await settings.load(workspaceId)).settings.inApp?.allowedOrigins ?? [];
  });
  // Slack's requests are verified over their exact bytes: the raw body (a Buffer) for /v1/slack/..., parsed there
  app.useBodyParser('raw', { limit: BODY_LIMIT, type: (req: { url?: string }) => req.url?.startsWith('/v1/slack/') === true });
  app.useBodyParser('json', { limit: BODY_LIMIT, type: ['application/json', 'text/plain'], verify: requireUtf8 });
  app.useBodyParser('text', { limit: BODY_LIMIT, type: YAML_TYPES, verify: requireUtf8 }); // trigger documents written as YAML
  app.useGlobalFilters(new HttpErrorsFilter());
  app.enableShutdownHooks([], { useProcessExit: true }); // exit 0 after a graceful shutdown (and pino flushes)
  const docs = new DocumentBuilder()
    .setTitle('Journey Engine')
    .setDescription('Event-sourced customer journey engine: Segment-compatible ingestion, journey queries, triggers and operations.')
    .addBasicAuth(
      { type: 'http', scheme: 'basic', description: 'Segment style: the workspace write key as user name, empty password' },
      'writeKey',
    )
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'A write key, or an admin / csm / analyst key' }, 'key')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Customer-Id', description: 'In-app client: the customer id' }, 'customerId')
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'X-Customer-Token',
        description: "In-app client: HMAC-SHA256 of the customer id with the workspace's identity secret, hex (deploy/in-app.md)",
      },
      'customerToken',
    )
    .addBasicAuth(
      { type: 'http', scheme: 'basic', description: "Inbound-parse webhooks: the workspace's inbound secret as the password" },
      'inboundSecret',
    )
    .addSecurity('slackSignature', {
      type: 'apiKey',
      in: 'header',
      name: 'X-Slack-Signature',
      description: "Slack's request signature v0 with the workspace's signing secret, and X-Slack-Request-Timestamp (deploy/slack.md)",
    })
    .addGlobalResponse(
      { status: 413, description: `The request body is over ${BODY_LIMIT}` },
      { status: 429, description: 'This key is over its rate limit (JOURNEY_RATE_LIMIT_PER_SECOND): retry after Retry-After seconds' },
    )
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, docs));
  serveConsole(app);
  return app;
}
