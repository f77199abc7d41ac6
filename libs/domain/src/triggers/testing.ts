/**
 * Builders for trigger tests and examples: a customer's history as envelopes, an enabled program from a definition.
 * Exported for users who test their triggers in CI (README, "Testing your triggers").
 */
import type { ConversationChannel } from '../conversations/types';
import type { EventDataByType, EventType, JourneyEvent, Traits } from '../events';
import { envelope } from '../envelope';
import { deterministicId } from '../ids';
import { triggerProgram, type TriggerProgram } from './program';
import { initialTriggerState, decideTrigger, evolveTrigger } from './definition';

export class History {
  readonly events: JourneyEvent[] = [];
  private n = 0;
  constructor(
    readonly customerId = 'c1',
    readonly workspaceId = 'ws',
  ) {}

  /** Appends an event that happened at `at` and arrived at `arrivedAt` (default: at once). */
  add<T extends EventType>(type: T, data: EventDataByType[T], at: string, arrivedAt = at): JourneyEvent {
    const e: JourneyEvent = envelope({
      id: deterministicId('history', this.workspaceId, this.customerId, this.n++),
      type,
      data: data as unknown as Record<string, unknown>,
      workspaceId: this.workspaceId,
      customerId: this.customerId,
      occurredAt: at,
      recordedAt: arrivedAt,
      source: 'http',
    });
    this.events.push(e);
    return e;
  }

  identify(at: string, traits: Traits = {}, arrivedAt?: string) {
    return this.add('CustomerIdentified', { userId: this.customerId, traits }, at, arrivedAt);
  }
  track(at: string, event: string, properties: Record<string, unknown> = {}, arrivedAt?: string) {
    return this.add('InteractionRecorded', { event, properties }, at, arrivedAt);
  }
  traits(at: string, traits: Traits, arrivedAt?: string) {
    return this.add('TraitsUpdated', { traits }, at, arrivedAt);
  }
  /**
   * The customer writes in conversation `conversationId` (started by this message when new, as the conversation decider
   * does); `sentiment`: its VADER score, as the engine stores it.
   */
  reply(
    at: string,
    body: string,
    options: { conversationId?: string; channel?: ConversationChannel; sentiment?: number; arrivedAt?: string } = {},
  ) {
    const { conversationId = 'conv-1', channel = 'inbox', sentiment, arrivedAt } = options;
    if (!this.conversations.has(conversationId)) {
      this.conversations.add(conversationId);
      this.add('ConversationStarted', { conversationId, channel }, at, arrivedAt);
    }
    return this.add(
      'CustomerReplied',
      { conversationId, messageId: `m${this.n}`, channel, body, ...(sentiment !== undefined ? { sentiment } : {}) },
      at,
      arrivedAt,
    );
  }
  private readonly conversations = new Set<string>();
  stage(at: string, from: EventDataByType['StageChanged']['from'], to: EventDataByType['StageChanged']['to']) {
    return this.add('StageChanged', { from, to, reason: 'test' }, at);
  }
}

/** An enabled program from a definition document (validated like the API would). */
export function enabledProgram(definition: unknown, workspaceId = 'ws'): TriggerProgram {
  const id = (definition as { id: string }).id;
  let state = initialTriggerState(id);
  const now = new Date('2025-01-01T00:00:00Z');
  for (const cmd of [{ type: 'DefineTrigger', definition } as const, { type: 'EnableTrigger' } as const])
    for (const e of decideTrigger(cmd, state, { workspaceId, now })) state = evolveTrigger(state, e);
  return triggerProgram(state);
}

export const ofType = (events: JourneyEvent[], type: EventType) => events.filter((e) => e.type === type);
