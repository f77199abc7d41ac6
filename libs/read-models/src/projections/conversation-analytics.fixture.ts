import type { EventDataByType, EventType, RecordedEvent } from '@journey/domain';

/*
 * Test fixture: a conversation history of three customers (see `conversationHistory`), as the log holds it.
 */
let position = 0n;
function recorded<T extends EventType>(customerId: string, type: T, data: EventDataByType[T], occurredAt: string): RecordedEvent {
  position += 1n;
  return {
    id: `e${position}`,
    type,
    data: data as never,
    metadata: { workspaceId: 'w', customerId, occurredAt, recordedAt: occurredAt, source: 'test', schemaVersion: 1 },
    streamId: `customer-w-${customerId}`,
    revision: 0n,
    position,
  };
}

const at = (day: number, time: string) => `2025-03-${String(day).padStart(2, '0')}T${time}Z`;
const slaTimer = (customer: string, id: string, target: 'first-response' | 'resolution', when: string) =>
  recorded(
    customer,
    'TimerScheduled',
    { timerId: `sla-${id}-${target}`, dueAt: when, purpose: 'sla', payload: { subject: 'conversation', id, target, priority: 'high' } },
    when,
  );
const started = (customer: string, id: string, when: string, channel: 'inbox' | 'email' = 'inbox') => [
  recorded(customer, 'ConversationStarted', { conversationId: id, channel }, when),
  recorded(customer, 'CustomerReplied', { conversationId: id, messageId: `${id}-m0`, channel, body: 'help' }, when),
];
const reply = (customer: string, id: string, when: string, by?: string) =>
  recorded(
    customer,
    'AgentReplied',
    {
      conversationId: id,
      messageId: `${id}-r-${when}`,
      channel: 'inbox',
      body: 'answer',
      ...(by ? { by } : { automated: true, triggerId: 't', runId: 'run' }),
    },
    when,
  );
const resolved = (customer: string, id: string, when: string, by?: string) =>
  recorded(customer, 'ConversationResolved', { conversationId: id, ...(by ? { by } : { automated: true }) }, when);

/*
 * a: c1 (support, high; ann answers in 5 min, resolves in 1 h, CSAT 4; both SLA targets met), then c2 three days
 *    later (a repeat contact of c1) answered and resolved by automation.
 * b: c3 answered by automation after 2 min but its first-response SLA breached, resolved by automation; c4 ten days
 *    after c3's resolution (not a repeat contact), still open with a pending first-response target.
 * c: c5 (success; bob) resolved after 2 h, reopened by the customer's reply two days later (a repeat contact), resolved
 *    again, CSAT 2.
 */
export const conversationHistory = (): RecordedEvent[] => [
  ...started('a', 'c1', at(3, '10:00:00')),
  slaTimer('a', 'c1', 'first-response', at(3, '10:00:00')),
  slaTimer('a', 'c1', 'resolution', at(3, '10:00:00')),
  recorded('a', 'ConversationAssigned', { conversationId: 'c1', team: 'support', priority: 'high', reason: 'queued' }, at(3, '10:00:00')),
  recorded(
    'a',
    'ConversationAssigned',
    { conversationId: 'c1', team: 'support', assignee: 'ann', priority: 'high', reason: 'least-loaded' },
    at(3, '10:00:01'),
  ),
  ...started('b', 'c3', at(3, '12:00:00')),
  slaTimer('b', 'c3', 'first-response', at(3, '12:00:00')),
  reply('a', 'c1', at(3, '10:05:00'), 'ann'),
  recorded(
    'b',
    'SlaBreached',
    { subject: 'conversation', id: 'c3', target: 'first-response', dueAt: at(3, '12:01:00'), priority: 'normal' },
    at(3, '12:01:00'),
  ),
  reply('b', 'c3', at(3, '12:02:00')),
  resolved('b', 'c3', at(3, '12:10:00')),
  resolved('a', 'c1', at(3, '11:00:00'), 'ann'),
  recorded('a', 'SatisfactionRated', { conversationId: 'c1', score: 4 }, at(3, '11:30:00')),
  ...started('c', 'c5', at(4, '09:00:00')),
  recorded(
    'c',
    'ConversationAssigned',
    { conversationId: 'c5', team: 'success', assignee: 'bob', priority: 'normal', by: 'bob', reason: 'manual' },
    at(4, '09:10:00'),
  ),
  reply('c', 'c5', at(4, '09:30:00'), 'bob'),
  resolved('c', 'c5', at(4, '11:00:00'), 'bob'),
  ...started('a', 'c2', at(6, '10:00:00')),
  reply('a', 'c2', at(6, '10:01:00')),
  resolved('a', 'c2', at(6, '10:02:00')),
  recorded('c', 'ConversationReopened', { conversationId: 'c5', reason: 'customer-replied' }, at(6, '09:00:00')),
  recorded('c', 'CustomerReplied', { conversationId: 'c5', messageId: 'c5-m1', channel: 'inbox', body: 'again' }, at(6, '09:00:00')),
  reply('c', 'c5', at(6, '09:20:00'), 'bob'),
  resolved('c', 'c5', at(6, '10:00:00'), 'bob'),
  recorded('c', 'SatisfactionRated', { conversationId: 'c5', score: 2 }, at(6, '10:05:00')),
  ...started('b', 'c4', at(13, '13:00:00')),
  slaTimer('b', 'c4', 'first-response', at(13, '13:00:00')),
  // tasks: k1 assigned (first response met), its resolution breached, closed; k2 still open (pending)
  recorded('a', 'CsmTaskOpened', { taskId: 'k1', title: 'Call', priority: 'high' }, at(4, '09:00:00')),
  recorded(
    'a',
    'TimerScheduled',
    {
      timerId: 'sla-k1-fr',
      dueAt: at(4, '10:00:00'),
      purpose: 'sla',
      payload: { subject: 'task', id: 'k1', target: 'first-response', team: 'success', priority: 'high' },
    },
    at(4, '09:00:00'),
  ),
  recorded(
    'a',
    'TimerScheduled',
    {
      timerId: 'sla-k1-res',
      dueAt: at(5, '09:00:00'),
      purpose: 'sla',
      payload: { subject: 'task', id: 'k1', target: 'resolution', team: 'success', priority: 'high' },
    },
    at(4, '09:00:00'),
  ),
  recorded('a', 'CsmTaskAssigned', { taskId: 'k1', assignee: 'bob', reason: 'least-loaded' }, at(4, '09:30:00')),
  recorded(
    'a',
    'SlaBreached',
    { subject: 'task', id: 'k1', target: 'resolution', dueAt: at(5, '09:00:00'), team: 'success', priority: 'high' },
    at(5, '09:00:00'),
  ),
  recorded('a', 'CsmTaskClosed', { taskId: 'k1', resolution: 'closed', outcome: 'called', by: 'bob' }, at(6, '09:00:00')),
  recorded('b', 'CsmTaskOpened', { taskId: 'k2', title: 'Check', priority: 'normal' }, at(5, '09:00:00')),
  recorded(
    'b',
    'TimerScheduled',
    {
      timerId: 'sla-k2-res',
      dueAt: at(20, '09:00:00'),
      purpose: 'sla',
      payload: { subject: 'task', id: 'k2', target: 'resolution', priority: 'normal' },
    },
    at(5, '09:00:00'),
  ),
  // not a conversation: ignored
  recorded('a', 'InteractionRecorded', { event: 'Login', properties: {} }, at(13, '13:00:00')),
];
