import { envelope, organisationFromStream, type EventDataByType, type RecordedEvent } from '@journey/domain';
import type { EventStore } from '@journey/event-store';
import type { LiveConversations, LiveListener } from '../conversations/live-conversations';
import type { OrganisationService } from '../conversations/organisation.service';
import { ClientStreams, HEARTBEAT_MS, MAX_STREAMS_PER_CUSTOMER, type StreamSink } from './client-streams';

const CUSTOMER = { workspaceId: 'ws', customerId: 'ann' };

function recorded<T extends keyof EventDataByType>(type: T, data: EventDataByType[T], position: number): RecordedEvent {
  const at = '2026-01-01T00:00:00.000Z';
  const e = envelope({
    id: `e${position}`,
    type,
    data,
    workspaceId: 'ws',
    customerId: 'ann',
    occurredAt: at,
    recordedAt: at,
    source: 'test',
  });
  return { ...e, streamId: 'customer-ws-ann', revision: BigInt(position - 1), position: BigInt(position) };
}

function fixture(stored: RecordedEvent[] | Error = []) {
  const listeners = new Set<LiveListener>();
  const live = {
    listen: (_ws: string, _customer: string | undefined, fn: LiveListener) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  } as unknown as LiveConversations;
  const organisation = { load: async () => organisationFromStream([]) } as unknown as OrganisationService;
  const store = {
    readStream: async () => {
      if (stored instanceof Error) throw stored;
      return stored;
    },
  } as unknown as EventStore;
  const streams = new ClientStreams(live, organisation, store);
  const open = () => {
    const sink = { written: '', ended: false, closeListeners: [] as Array<() => void> };
    const s: StreamSink = {
      write: (c) => ((sink.written += c), true),
      end: () => (sink.ended = true),
      on: (_, fn) => sink.closeListeners.push(fn),
    };
    return { sink, s, close: () => sink.closeListeners.forEach((fn) => fn()) };
  };
  return { streams, listeners, open, emit: (e: RecordedEvent) => listeners.forEach((fn) => fn(e)) };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('ClientStreams', () => {
  afterEach(() => jest.useRealTimers());

  it('writes a heartbeat comment every 15 s, and stops listening and beating when the connection closes', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    const f = fixture();
    const c = f.open();
    await f.streams.serve(CUSTOMER, c.s);
    expect(c.sink.written).toBe('retry: 3000\n: connected\n\n');
    jest.advanceTimersByTime(HEARTBEAT_MS * 2);
    expect(c.sink.written.match(/^: heartbeat /gm)).toHaveLength(2);
    expect(f.listeners.size).toBe(1);
    c.close();
    expect(f.listeners.size).toBe(0);
    expect(f.streams.size).toBe(0);
    const before = c.sink.written;
    jest.advanceTimersByTime(HEARTBEAT_MS * 2);
    expect(c.sink.written).toBe(before);
  });

  it('writes the events meant for the client with their position as id, and nothing of notes', async () => {
    const f = fixture();
    const c = f.open();
    await f.streams.serve(CUSTOMER, c.s);
    f.emit(recorded('InternalNoteAdded', { conversationId: 'c1', noteId: 'n1', body: 'secret', by: 'm1' }, 7));
    f.emit(recorded('AgentReplied', { conversationId: 'c1', messageId: 'a1', channel: 'inbox', body: 'Hello', by: 'm1' }, 8));
    f.emit(recorded('MessageDelivered', { messageId: 'w1', channel: 'email', attempt: 1, content: { body: 'by mail' } }, 9));
    await flush();
    expect(c.sink.written).not.toContain('secret');
    expect(c.sink.written).not.toContain('by mail'); // not an inbox message
    expect(c.sink.written).toContain(
      'id: 8\nevent: AgentReplied\ndata: {"conversationId":"c1","message":{"messageId":"a1","from":"agent","body":"Hello","at":"2026-01-01T00:00:00.000Z","agent":"Support"}}\n\n',
    );
  });

  it('after Last-Event-ID, sends the stored events it missed first, then live ones, each once', async () => {
    const reply = (n: number) => recorded('AgentReplied', { conversationId: 'c1', messageId: `a${n}`, channel: 'inbox', body: `r${n}` }, n);
    const f = fixture([reply(1), reply(2), reply(3)]);
    const c = f.open();
    await f.streams.serve(CUSTOMER, c.s, 1n);
    f.emit(reply(3)); // also handed on live
    f.emit(reply(4));
    await flush();
    expect([...c.sink.written.matchAll(/^id: (\d+)$/gm)].map((m) => m[1])).toEqual(['2', '3', '4']);
  });

  it('ends the stream when the events it missed cannot be read (the client reconnects with Last-Event-ID)', async () => {
    const f = fixture(new Error('disk I/O error'));
    const c = f.open();
    await f.streams.serve(CUSTOMER, c.s, 1n);
    expect(c.sink.ended).toBe(true);
    expect(f.listeners.size).toBe(0);
  });

  it(`refuses a customer's stream over ${MAX_STREAMS_PER_CUSTOMER} with a 429, and ends every stream on shutdown`, async () => {
    const f = fixture();
    const sinks = [];
    for (let i = 0; i < MAX_STREAMS_PER_CUSTOMER; i++) {
      const c = f.open();
      sinks.push(c);
      await f.streams.serve(CUSTOMER, c.s);
    }
    expect(() => f.streams.admit(CUSTOMER)).toThrow(expect.objectContaining({ status: 429 }));
    expect(() => f.streams.admit({ ...CUSTOMER, customerId: 'bob' })).not.toThrow();
    sinks[0].close();
    expect(() => f.streams.admit(CUSTOMER)).not.toThrow();
    f.streams.onModuleDestroy();
    expect(sinks.slice(1).every((c) => c.sink.ended)).toBe(true);
    expect(f.listeners.size).toBe(0);
  });
});
