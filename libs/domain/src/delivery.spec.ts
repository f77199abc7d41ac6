import {
  decideDelivery,
  deliveryDueAt,
  evolveDelivery,
  initialDeliveryState,
  nextAttemptAt,
  requestResend,
  retryDelayMs,
  type DeliveryCommand,
  type RetryPolicy,
} from './delivery';
import type { JourneyEvent } from './events';
import { deterministicId } from './ids';

const now = new Date('2025-03-01T10:00:00.000Z');
const meta = {
  workspaceId: 'w',
  customerId: 'c1',
  occurredAt: 'x',
  recordedAt: 'x',
  source: 'test',
  schemaVersion: 1,
  correlationId: 'corr',
};
const scheduled = (extra: Record<string, unknown> = {}): JourneyEvent => ({
  id: 'sched-1',
  type: 'MessageScheduled',
  data: { messageId: 'm1', channel: 'webhook', template: { body: 'hi' }, ...extra },
  metadata: meta,
});
const sent = (attempt: number): JourneyEvent => ({
  id: `s${attempt}`,
  type: 'MessageSent',
  data: { messageId: 'm1', channel: 'webhook', attempt },
  metadata: meta,
});
const outcome = (type: string): JourneyEvent => ({ id: type, type, data: { messageId: 'm1', channel: 'webhook' }, metadata: meta });

/** given events, when command, then events (type + data). */
function given(events: JourneyEvent[]) {
  const state = events.reduce(evolveDelivery, initialDeliveryState());
  return {
    when: (command: DeliveryCommand) => {
      const produced = decideDelivery(command, state);
      return {
        then: (expected: Array<{ type: string; data: Record<string, unknown> }>) =>
          expect(produced.map(({ type, data }) => ({ type, data }))).toEqual(expected),
        produced,
      };
    },
  };
}

const retry: RetryPolicy = { maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 60_000, budgetMs: 24 * 3_600_000 };
const start = (extra: Partial<Extract<DeliveryCommand, { type: 'StartAttempt' }>> = {}): DeliveryCommand => ({
  type: 'StartAttempt',
  now,
  retry,
  ...extra,
});
const complete = (
  attempt: number,
  result: Extract<DeliveryCommand, { type: 'CompleteAttempt' }>['result'],
  extra: Partial<Extract<DeliveryCommand, { type: 'CompleteAttempt' }>> = {},
): DeliveryCommand => ({ type: 'CompleteAttempt', now, attempt, retry, result, ...extra });

describe('delivery decider', () => {
  it('a scheduled message is sent as attempt 1, with a deterministic id and the scheduling event as cause', () => {
    const { produced } = given([scheduled()]).when(start());
    expect(produced).toEqual([
      {
        id: deterministicId('message-sent', 'm1', 1),
        type: 'MessageSent',
        data: { messageId: 'm1', channel: 'webhook', attempt: 1 },
        metadata: expect.objectContaining({
          workspaceId: 'w',
          customerId: 'c1',
          causationId: 'sched-1',
          correlationId: 'corr',
          source: 'dispatcher',
          occurredAt: now.toISOString(),
        }),
      },
    ]);
  });

  it('a message sent without an outcome (crash while sending) is sent again as the next attempt', () => {
    given([scheduled(), sent(1)])
      .when(start())
      .then([{ type: 'MessageSent', data: { messageId: 'm1', channel: 'webhook', attempt: 2 } }]);
  });

  it('a message with an outcome is never sent again, whatever the outcome', () => {
    for (const type of ['MessageDelivered', 'MessageFailed', 'MessageSuppressed']) {
      given([scheduled(), sent(1), outcome(type)])
        .when(start())
        .then([]);
      given([scheduled(), sent(1), outcome(type)])
        .when(complete(1, { ok: true }))
        .then([]);
    }
  });

  it('suppresses instead of sending when the dispatcher found a reason', () => {
    given([scheduled()])
      .when(start({ suppress: { reason: 'template-error', detail: 'undefined variable: customer.traits.name' } }))
      .then([
        {
          type: 'MessageSuppressed',
          data: { messageId: 'm1', channel: 'webhook', reason: 'template-error', detail: 'undefined variable: customer.traits.name' },
        },
      ]);
  });

  it('fails when a crash left the last allowed attempt without an outcome', () => {
    const { produced } = given([scheduled(), sent(1), sent(2), sent(3)]).when(start());
    expect(produced.map((e) => [e.type, (e.data as { attempts?: number }).attempts])).toEqual([['MessageFailed', 3]]);
  });

  it('records a successful attempt as delivered, keeping detail and content', () => {
    given([scheduled(), sent(2)])
      .when(complete(2, { ok: true, detail: 'HTTP 202', content: { subject: 'S', body: 'B' } }))
      .then([
        {
          type: 'MessageDelivered',
          data: { messageId: 'm1', channel: 'webhook', attempt: 2, detail: 'HTTP 202', content: { subject: 'S', body: 'B' } },
        },
      ]);
  });

  it('a retryable error with attempts left decides nothing (the dispatcher retries later)', () => {
    given([scheduled(), sent(1)])
      .when(complete(1, { ok: false, retryable: true, error: 'HTTP 503' }))
      .then([]);
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
    expect(deliveryDueAt([scheduled({ notBefore: '2025-03-02T09:00:00Z' })].reduce(evolveDelivery, initialDeliveryState()))).toEqual(
      new Date('2025-03-02T09:00:00Z'),
    );
    const policy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 350 };
    expect([1, 2, 3, 4].map((a) => retryDelayMs(policy, a))).toEqual([100, 200, 350, 350]);
  });

  describe('retry budget', () => {
    const at = (ms: number) => new Date(now.getTime() + ms).toISOString();
    const sentAt = (attempt: number, ms: number): JourneyEvent => ({ ...sent(attempt), metadata: { ...meta, occurredAt: at(ms) } });
    const unlimited: RetryPolicy = { maxAttempts: Infinity, baseDelayMs: 1000, maxDelayMs: 3_600_000, budgetMs: 24 * 3_600_000 };
    const hours = (h: number) => new Date(now.getTime() + h * 3_600_000);

    it('keeps retrying within the budget, well past what five attempts used to allow', () => {
      given([scheduled(), sentAt(1, 0), sentAt(12, 3_600_000)])
        .when(complete(12, { ok: false, retryable: true, error: 'HTTP 503' }, { retry: unlimited, now: hours(1) }))
        .then([]);
    });

    it('gives up when the next retry would start after the budget, measured from the first attempt', () => {
      given([scheduled(), sentAt(1, 0), sentAt(30, 23.5 * 3_600_000)])
        .when(complete(30, { ok: false, retryable: true, error: 'HTTP 503' }, { retry: unlimited, now: hours(23.5) }))
        .then([
          {
            type: 'MessageFailed',
            data: { messageId: 'm1', channel: 'webhook', attempts: 30, error: 'HTTP 503 (gave up: the retry budget of 24 h is spent)' },
          },
        ]);
    });

    it('knows when the next attempt is due from the log (durable across restarts)', () => {
      const state = [scheduled(), sentAt(1, 0), sentAt(2, 1000)].reduce(evolveDelivery, initialDeliveryState());
      expect(nextAttemptAt(state, unlimited)).toEqual(new Date(now.getTime() + 1000 + 2000));
      expect(nextAttemptAt([scheduled()].reduce(evolveDelivery, initialDeliveryState()), unlimited)).toBeUndefined();
    });

    it('gives one more attempt after an outage planned within the budget, but stops a crash loop past it', () => {
      // Planned retry at 23 h + backoff: inside the budget, even if the dispatcher only comes back days later.
      given([scheduled(), sentAt(1, 0), sentAt(20, 23 * 3_600_000)])
        .when(start({ retry: unlimited, now: hours(72) }))
        .then([{ type: 'MessageSent', data: { messageId: 'm1', channel: 'webhook', attempt: 21 } }]);
      // Sent again and again without an outcome (a crash each time) until the planned time is past the budget.
      const { produced } = given([scheduled(), sentAt(1, 0), sentAt(40, 24 * 3_600_000)]).when(start({ retry: unlimited, now: hours(25) }));
      expect(produced.map((e) => [e.type, (e.data as { error?: string }).error])).toEqual([
        ['MessageFailed', expect.stringContaining('the retry budget of 24 h is spent')],
      ]);
    });
  });

  describe('re-send of a failed message', () => {
    const failed = (): JourneyEvent => ({
      id: 'f1',
      type: 'MessageFailed',
      data: { messageId: 'm1', channel: 'webhook', attempts: 3, error: 'HTTP 500' },
      metadata: meta,
    });
    const resendOf = (events: JourneyEvent[]) => requestResend(events.reduce(evolveDelivery, initialDeliveryState()), now);

    it('is requested only for a failed message, with an id per re-send', () => {
      expect(resendOf([scheduled()])).toBeUndefined();
      expect(resendOf([scheduled(), sent(1)])).toBeUndefined();
      expect(resendOf([scheduled(), sent(1), outcome('MessageDelivered')])).toBeUndefined();
      expect(resendOf([scheduled(), outcome('MessageSuppressed')])).toBeUndefined();
      const first = resendOf([scheduled(), sent(1), sent(2), sent(3), failed()]);
      expect(first).toEqual({
        id: deterministicId('message-resend-requested', 'm1', 1),
        type: 'MessageResendRequested',
        data: { messageId: 'm1', channel: 'webhook', resend: 1 },
        metadata: expect.objectContaining({ workspaceId: 'w', customerId: 'c1', causationId: 'sched-1', source: 'admin' }),
      });
      // Requested again before the dispatcher acted: the same event (deduplicated by id), not a second re-send.
      expect(resendOf([scheduled(), sent(1), sent(2), sent(3), failed()])?.id).toBe(first!.id);
      expect(resendOf([scheduled(), sent(1), sent(2), sent(3), failed(), first!])).toBeUndefined();
    });

    it('starts a new round: the next attempt number, a fresh attempt limit, new outcome ids', () => {
      const history = [scheduled(), sent(1), sent(2), sent(3), failed()];
      const resend = resendOf(history)!;
      given([...history, resend])
        .when(start())
        .then([{ type: 'MessageSent', data: { messageId: 'm1', channel: 'webhook', attempt: 4 } }]);
      given([...history, resend, sent(4)])
        .when(complete(4, { ok: false, retryable: true, error: 'HTTP 503' }))
        .then([]);
      const { produced } = given([...history, resend, sent(4)]).when(complete(4, { ok: true }));
      expect(produced.map((e) => [e.type, e.id])).toEqual([['MessageDelivered', deterministicId('message-delivered', 'm1', 'resend', 1)]]);
      const again = given([...history, resend, sent(4), sent(5), sent(6)]).when(
        complete(6, { ok: false, retryable: true, error: 'HTTP 503' }),
      ).produced;
      expect(again.map((e) => [e.type, e.id, (e.data as { attempts: number }).attempts])).toEqual([
        ['MessageFailed', deterministicId('message-failed', 'm1', 'resend', 1), 6],
      ]);
      expect(
        requestResend([...history, resend, sent(4), sent(5), sent(6), ...again].reduce(evolveDelivery, initialDeliveryState()), now)?.data
          .resend,
      ).toBe(2);
    });
  });
});
