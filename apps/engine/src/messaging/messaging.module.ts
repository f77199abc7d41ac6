import { Inject, Injectable, Module, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { CHECKPOINT_STORE, EVENT_STORE, type CheckpointStore, type EventStore } from '@journey/event-store';
import {
  Dispatcher,
  EmailChannel,
  HttpRequestChannel,
  InboxChannel,
  LogChannel,
  SlackChannel,
  WebhookChannel,
  WorkspaceSettingsReader,
  type Channel,
} from '@journey/messaging';
import { ENGINE_CONFIG, type EngineConfig } from '../config';
import { createLogger } from '../logger';
import { HealthChecks } from '../operations/health';
import { Metrics } from '../operations/metrics';
import { EmailModule } from '../email/email.module';
import { EmailThreadingService } from '../email/email-threading';
import { ProjectionsModule } from '../projections/projections.module';
import { SubscriberFailures } from '../operations/subscriber-failures';
import { InboxController } from './inbox.controller';
import { MessagesController } from './messages.controller';
import { InboxHandler } from './inbox.query';
import { OpenInboxMessageHandler } from './open-inbox-message.command';
import { ResendMessageHandler } from './resend-message.command';

/**
 * The `dispatcher` role: delivers MessageScheduled through the configured channels. `inbox` and `log` are always on;
 * `webhook` with JOURNEY_WEBHOOK_URL, `email` with SMTP_URL; `slack` and `http` (a trigger's templated webhook step)
 * too, configured per workspace (its settings and secrets). A message for a channel that is not configured is
 * suppressed with reason `unknown-channel`.
 */
@Injectable()
export class DispatcherWorker implements OnApplicationBootstrap, OnModuleDestroy {
  private dispatcher?: Dispatcher;
  private email?: EmailChannel;

  constructor(
    @Inject(ENGINE_CONFIG) private readonly config: EngineConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CHECKPOINT_STORE) private readonly checkpoints: CheckpointStore,
    private readonly metrics: Metrics,
    private readonly health: HealthChecks,
    private readonly failures: SubscriberFailures,
    private readonly threading: EmailThreadingService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.roles.has('dispatcher')) return;
    const logger = createLogger(this.config.logLevel).child({ context: 'dispatcher' });
    const { webhook, email, retry } = this.config.messaging;
    const settings = new WorkspaceSettingsReader(this.store);
    const channels: Channel[] = [
      new InboxChannel(),
      new LogChannel(logger),
      new SlackChannel({ settings, store: this.store }),
      new HttpRequestChannel({ settings }),
    ];
    if (webhook) channels.push(new WebhookChannel(webhook));
    if (email) channels.push((this.email = new EmailChannel({ ...email, threading: (m) => this.threading.threading(m) })));
    this.dispatcher = new Dispatcher({
      store: this.store,
      checkpoints: this.checkpoints,
      channels,
      retry,
      logger,
      onOutcome: (channel, outcome) => this.metrics.messages.inc({ channel, outcome }),
      failures: this.failures.settings,
    });
    this.health.registerSubscriber('dispatcher', this.dispatcher);
    await this.dispatcher.start();
  }

  /** Before the store closes (PersistenceModule closes it on application shutdown). */
  async onModuleDestroy(): Promise<void> {
    await this.dispatcher?.stop();
    this.email?.close();
  }
}

@Module({
  imports: [ProjectionsModule, EmailModule],
  controllers: [InboxController, MessagesController],
  providers: [DispatcherWorker, InboxHandler, OpenInboxMessageHandler, ResendMessageHandler],
})
export class MessagingModule {}
