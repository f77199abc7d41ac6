import { Global, Inject, Injectable, Logger, Module, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { CHECKPOINT_STORE, EVENT_STORE, type CheckpointStore, type EventStore } from '@journey/event-store';
import {
  InProcessBus,
  InProcessPublisher,
  KafkaIngestionConsumer,
  KafkaPublisher,
  OutboxRelay,
  allTopics,
  createKafka,
  ensureTopics,
} from '@journey/integration';
import { ENGINE_CONFIG, type EngineConfig } from '../config';
import { HealthChecks } from '../operations/health';
import { Metrics } from '../operations/metrics';
import { SubscriberFailures } from '../operations/subscriber-failures';

/**
 * Integration workers (deploy/kafka.md):
 * - role `relay`: the outbox relay publishes the log's integration events as CloudEvents: to Kafka when KAFKA_BROKERS
 *   is set (checkpoint `relay:kafka`), else to the in-process bus (checkpoint `relay:bus`) that modules subscribe to.
 * - role `ingest`: with KAFKA_BROKERS and JOURNEY_KAFKA_INGEST_TOPIC, a consumer group ingests Segment calls from the
 *   topic (a role of its own, so ingestion from Kafka scales apart from the HTTP API).
 */
@Injectable()
export class IntegrationWorkers implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('integration');
  relay?: OutboxRelay;
  ingestion?: KafkaIngestionConsumer;

  constructor(
    @Inject(ENGINE_CONFIG) private readonly config: EngineConfig,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(CHECKPOINT_STORE) private readonly checkpoints: CheckpointStore,
    private readonly bus: InProcessBus,
    private readonly health: HealthChecks,
    private readonly metrics: Metrics,
    private readonly failures: SubscriberFailures,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { roles, kafkaBrokers, kafka: settings } = this.config;
    const kafka = kafkaBrokers ? createKafka({ brokers: kafkaBrokers, clientId: 'journey-engine', logger: this.logger }) : undefined;
    if (roles.has('relay')) {
      if (kafka)
        await ensureTopics(kafka, allTopics(settings.topicPrefix), {
          partitions: settings.partitions,
          replicationFactor: settings.replicationFactor,
        });
      const name = kafka ? 'relay:kafka' : 'relay:bus';
      const published = new Counter({
        name: 'journey_relay_published_events_total',
        help: 'Integration events acknowledged by the bus or Kafka',
        labelNames: ['relay'],
        registers: [this.metrics.registry],
      });
      const position = new Gauge({
        name: 'journey_relay_position',
        help: 'Last global position the relay has published',
        labelNames: ['relay'],
        registers: [this.metrics.registry],
      });
      const relay = new OutboxRelay(
        this.store,
        this.checkpoints,
        kafkaBrokers
          ? new KafkaPublisher({ brokers: kafkaBrokers, clientId: 'journey-engine', logger: this.logger })
          : new InProcessPublisher(this.bus),
        {
          name,
          topicPrefix: settings.topicPrefix,
          logger: this.logger,
          failures: this.failures.settings,
          onPublished: (count, at) => {
            published.inc({ relay: name }, count);
            position.set({ relay: name }, Number(at));
          },
        },
      );
      this.health.registerSubscriber(name, relay, (e) => `publishing fails: ${e.message}`);
      await relay.start();
      this.relay = relay;
    }
    if (roles.has('ingest') && settings.ingestTopic) {
      if (!kafka) throw new Error('JOURNEY_KAFKA_INGEST_TOPIC is set but KAFKA_BROKERS is not');
      const deadLetters = new Counter({
        name: 'journey_kafka_dead_letters_total',
        help: 'Ingestion records sent to the dead-letter topic',
        registers: [this.metrics.registry],
      });
      const workspace = settings.ingestWorkspace;
      const ingestion = new KafkaIngestionConsumer(kafka, this.store, {
        topic: settings.ingestTopic,
        groupId: settings.ingestGroup,
        workspaceId: workspace,
        logger: this.logger,
        onIngested: (written, dead) => {
          this.metrics.ingestedEvents.inc({ workspace, source: 'kafka' }, written);
          deadLetters.inc(dead);
        },
      });
      this.health.registerSubscriber('kafka:ingest', ingestion);
      await ingestion.start();
      this.ingestion = ingestion;
    }
  }

  /** Before the store closes (PersistenceModule closes it on application shutdown). */
  async onModuleDestroy(): Promise<void> {
    await Promise.all([this.relay?.stop(), this.ingestion?.stop()]);
  }
}

@Global()
@Module({
  providers: [InProcessBus, IntegrationWorkers],
  exports: [InProcessBus],
})
export class IntegrationModule {}
