import { decideDelivery, deliveryDueAt, evolveDelivery, initialDeliveryState, retryDelayMs, type DeliveryCommand } from './delivery';
import type { JourneyEvent } from './events';
import { deterministicId } from './ids';

const now = new Date('2025-03-01T10:00:00.000Z');
const meta = { workspaceId: 'w', customerId: 'c1', occurredAt: 'x', recordedAt: 'x', source: 'test', schemaVersion: 1, correlationId: 'corr' };
const scheduled = (extra: Record<string, unknown> = {}): JourneyEvent => ({
  id: 'sched-1',
  type: 'MessageScheduled',
  data: { messageId: 'm1', channel: 'webhook', template: { body: 'hi' }, ...extra },
  metadata: meta,
});
const sent = (attempt: number): JourneyEvent => ({ id: `s${attempt}`, type: 'MessageSent', data: { messageId: 'm1', channel: 'webhook', attempt }, metadata: meta });
const outcome = (type: string): JourneyEvent => ({ id: type, type, data: { messageId: 'm1', channel: 'webhook' }, metadata: meta });

/** given events, when command, then events (type + data). */
function given(events: JourneyEvent[]) {
  const state = events.reduce(evolveDelivery, initialDeliveryState());
  return {
    when: (command: DeliveryCommand) => {
      const produced = decideDelivery(command, state);
      return { then: (expected: Array<{ type: string; data: Record<string, unknown> }>) => expect(produced.map(({ type, data }) => ({ type, data }))).toEqual(expected), produced };
    },
  };
}

const start = (extra: Partial<Extract<DeliveryCommand, { type: 'StartAttempt' }>> = {}): DeliveryCommand => ({ type: 'StartAttempt', now, maxAttempts: 3, ...extra });
const complete = (attempt: number, result: Extract<DeliveryCommand, { type: 'CompleteAttempt' }>['result']): DeliveryCommand => ({ type: 'CompleteAttempt', now, attempt, maxAttempts: 3, result });

describe('delivery decider', () => {
  it('a scheduled message is sent as attempt 1, with a deterministic id and the scheduling event as cause', () => {
    const { produced } = given([scheduled()]).when(start());
    expect(produced).toEqual([
      {
        id: deterministicId('message-sent', 'm1', 1),
        type: 'MessageSent',
        data: { messageId: 'm1', channel: 'webhook', attempt: 1 },
        metadata: expect.objectContaining({ workspaceId: 'w', customerId: 'c1', causationId: 'sched-1', correlationId: 'corr', source: 'dispatcher', occurredAt: now.toISOString() }),
      },
    ]);
  });

  it('a message sent without an outcome (crash while sending) is sent again as the next attempt', () => {
    given([scheduled(), sent(1)]).when(start()).then([{ type: 'MessageSent', data: { messageId: 'm1', channel: 'webhook', attempt: 2 } }]);
  });

  it('a message with an outcome is never sent again, whatever the outcome', () => {
    for (const type of ['MessageDelivered', 'MessageFailed', 'MessageSuppressed']) {
      given([scheduled(), sent(1), outcome(type)]).when(start()).then([]);
      given([scheduled(), sent(1), outcome(type)]).when(complete(1, { ok: true })).then([]);
    }
  });

  it('suppresses instead of sending when the dispatcher found a reason', () => {
    given([scheduled()])
      .when(start({ suppress: { reason: 'template-error', detail: 'undefined variable: customer.traits.name' } }))
      .then([{ type: 'MessageSuppressed', data: { messageId: 'm1', channel: 'webhook', reason: 'template-error', detail: 'undefined variable: customer.traits.name' } }]);
  });

  it('fails when a crash left the last allowed attempt without an outcome', () => {
    const { produced } = given([scheduled(), sent(1), sent(2), sent(3)]).when(start());
    expect(produced.map((e) => [e.type, (e.data as { attempts?: number }).attempts])).toEqual([['MessageFailed', 3]]);
  });

  it('records a successful attempt as delivered, keeping detail and content', () => {
    given([scheduled(), sent(2)])
      .when(complete(2, { ok: true, detail: 'HTTP 202', content: { subject: 'S', body: 'B' } }))
      .then([{ type: 'MessageDelivered', data: { messageId: 'm1', channel: 'webhook', attempt: 2, detail: 'HTTP 202', content: { subject: 'S', body: 'B' } } }]);
  });

  it('a retryable error with attempts left decides nothing (the dispatcher retries later)', () => {
    given([scheduled(), sent(1)]).when(complete(1, { ok: false, retryable: true, error: 'HTTP 503' })).then([]);
  });

  it('a retryable error on the last attempt fails the message', () => {
    given([scheduled(), sent(1), sent(2), sent(3)])
      .when(complete(3, { ok: false, retryable: true, error: 'HTTP 503' }))
      .then([{ type: 'MessageFailed', data: { messageId: 'm1', channel: 'webhook', attempts: 3, error: 'HTTP 503' } }]);
  });

  it('a permanent error fails the message at once', () => {
    given([scheduled(), sent(1)])
      .when(complete(1, { ok: false, retryable: false, error: 'HTTP 400' }))
      .then([{ type: 'MessageFailed', data: { messageId: 'm1', channel: 'webhook', attempts: 1, error: 'HTTP 400' } }]);
  });

  it('refuses to decide for a message that was never scheduled', () => {
    expect(() => given([]).when(start())).toThrow(/never scheduled/);
  });

  it('knows when a message is due and how long to back off', () => {
    expect(deliveryDueAt([scheduled()].reduce(evolveDelivery, initialDeliveryState()))).toBeUndefined();
    expect(deliveryDueAt([scheduled({ notBefore: '2025-03-02T09:00:00Z' })].reduce(evolveDelivery, initialDeliveryState()))).toEqual(new Date('2025-03-02T09:00:00Z'));
    const policy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 350 };
    expect([1, 2, 3, 4].map((a) => retryDelayMs(policy, a))).toEqual([100, 200, 350, 350]);
  });
});
