import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import {
  eventTime,
  evolveConversation,
  initialConversationState,
  type ConversationState,
  type EventDataByType,
  type RecordedEvent,
} from '@journey/domain';
import { EVENT_STORE, Processor, ProcessorHandler, type EventStore } from '@journey/event-store';
import { ENGINE_CONFIG, type EngineConfig } from '../config';
import { HealthChecks } from '../operations/health';
import { Metrics } from '../operations/metrics';
import { SubscriberFailures } from '../operations/subscriber-failures';

const OBSERVED = ['ConversationStarted', 'AgentReplied', 'ConversationResolved', 'SlaBreached', 'SatisfactionRated'];
/** Types whose observation needs the conversation as it was before them (its start, team, priority, channel). */
const NEEDS_STATE = new Set(['AgentReplied', 'ConversationResolved']);

/**
 * What the Prometheus conversation metrics observe of a batch of events. Pure: `conversationBefore(e)` gives the
 * conversation as it was just before `e` (folded from its customer's stream).
 */
export function observeConversations(
  events: readonly RecordedEvent[],
  conversationBefore: (e: RecordedEvent) => ConversationState | undefined,
  metrics: Pick<
    Metrics,
    | 'conversationFirstResponse'
    | 'conversationResolution'
    | 'conversationsStarted'
    | 'conversationsResolved'
    | 'slaBreaches'
    | 'csatRatings'
  >,
): void {
  for (const e of events) {
    switch (e.type) {
      case 'ConversationStarted':
        metrics.conversationsStarted.inc({ channel: (e.data as EventDataByType['ConversationStarted']).channel });
        break;
      case 'SlaBreached':
        metrics.slaBreaches.inc({ target: (e.data as EventDataByType['SlaBreached']).target });
        break;
      case 'SatisfactionRated':
        metrics.csatRatings.inc({ score: String((e.data as EventDataByType['SatisfactionRated']).score) });
        break;
      case 'AgentReplied':
      case 'ConversationResolved': {
        const c = conversationBefore(e);
        if (!c?.exists || c.startedAt === undefined) break;
        const labels = { team: c.team ?? '', priority: c.priority, channel: c.channel };
        const seconds = Math.max(0, (eventTime(e) - Date.parse(c.startedAt)) / 1000);
        if (e.type === 'AgentReplied') {
          if (c.firstResponseAt === undefined) metrics.conversationFirstResponse.observe(labels, seconds);
        } else {
          if (c.status === 'resolved') break;
          const by = (e.data as EventDataByType['ConversationResolved']).by;
          metrics.conversationsResolved.inc({ automated: String(!(c.personInvolved || by !== undefined)) });
          metrics.conversationResolution.observe(labels, seconds);
        }
        break;
      }
    }
  }
}

/**
 * Feeds the conversation metrics (operations/metrics.ts) from the log, in the process with the `projector` role (one
 * per deployment, like the read models; the embedded engine's worker thread, whose metrics /metrics aggregates). It
 * starts at the head of the log when the process starts: Prometheus counters and histograms count from the process
 * start (a restart is a counter reset, which `rate()` and `increase()` handle), so a restart never counts an event
 * twice. A first reply or resolution reads its customer's stream for the conversation's start, team, priority and
 * channel as they were just before it.
 */
@Injectable()
export class ConversationMetrics extends ProcessorHandler implements OnApplicationBootstrap, OnModuleDestroy {
  readonly processor: Processor;
  private readonly enabled: boolean;

  constructor(
    @Inject(ENGINE_CONFIG) config: EngineConfig,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    private readonly metrics: Metrics,
    health: HealthChecks,
    failures: SubscriberFailures,
  ) {
    super();
    this.enabled = config.roles.has('projector');
    this.processor = new Processor({
      name: 'conversation-metrics',
      store: events,
      filter: { eventTypes: OBSERVED },
      filterInStore: true,
      checkpoint: { load: () => events.headPosition() },
      handle: (batch) => this.handle(batch),
      failures: failures.settings,
    });
    if (this.enabled) health.registerSubscriber('conversation-metrics', this);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.enabled) await this.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  private async handle(batch: RecordedEvent[]): Promise<void> {
    const streams = new Map<string, RecordedEvent[]>();
    for (const e of batch)
      if (NEEDS_STATE.has(e.type) && !streams.has(e.streamId)) streams.set(e.streamId, await this.events.readStream(e.streamId));
    observeConversations(
      batch,
      (e) => {
        const id = (e.data as { conversationId: string }).conversationId;
        let state = initialConversationState(id);
        for (const x of streams.get(e.streamId) ?? []) {
          if (x.revision >= e.revision) break;
          if (x.type === 'CustomerForgotten') state = initialConversationState(id);
          else state = evolveConversation(state, x);
        }
        return state;
      },
      this.metrics,
    );
  }
}
