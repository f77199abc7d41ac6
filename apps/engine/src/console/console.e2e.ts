import { startEngine, type TestEngine } from '../../../../test/e2e/support';
import { eventually } from '../../../../libs/reactors/src/testing/eventually';

/** Reads a Server-Sent Events stream into frames until closed. */
async function openStream(url: string, headers: Record<string, string>) {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const frames: { event: string; data: any }[] = [];
  if (res.ok && res.body) {
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let pending = '';
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          pending += value;
          let end: number;
          while ((end = pending.indexOf('\n\n')) >= 0) {
            const frame = pending.slice(0, end).split('\n');
            pending = pending.slice(end + 2);
            const event = frame.find((l) => l.startsWith('event: '))?.slice(7);
            const data = frame.find((l) => l.startsWith('data: '))?.slice(6);
            if (event) frames.push({ event, data: data ? JSON.parse(data) : undefined });
          }
        }
      } catch {
        // closed
      }
    })();
  }
  return { res, frames, close: () => abort.abort() };
}

describe('console API: session and the live event stream', () => {
  let engine: TestEngine;
  let analystKey: string;
  beforeAll(async () => {
    engine = await startEngine();
    const created = await fetch(`${engine.url}/v1/admin/keys`, {
      method: 'POST',
      headers: { authorization: engine.auth.admin, 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'analyst', name: 'Nia' }),
    });
    expect(created.status).toBe(201);
    analystKey = ((await created.json()) as { key: string }).key;
  });
  afterAll(() => engine.close());

  const track = (userId: string, event: string) =>
    fetch(`${engine.url}/v1/track`, {
      method: 'POST',
      headers: { authorization: engine.auth.write, 'content-type': 'application/json' },
      body: JSON.stringify({ userId, event }),
    });

  it('says who a key is: its workspace, role and key id, and 401 without a key', async () => {
    const res = await fetch(`${engine.url}/v1/session`, { headers: { authorization: `Bearer ${analystKey}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ workspaceId: 'default', role: 'analyst', keyId: expect.any(String) });
    expect((await fetch(`${engine.url}/v1/session`)).status).toBe(401);
  });

  it("streams one customer's stored events, filtered by customer and type, to an analyst", async () => {
    const stream = await openStream(`${engine.url}/v1/events/stream?customerId=bob&types=InteractionRecorded,MessageSent`, {
      authorization: `Bearer ${analystKey}`,
    });
    expect(stream.res.status).toBe(200);
    await eventually(() => expect(stream.frames.map((f) => f.event)).toContain('ready'));
    expect((await track('ada', 'Project Created')).status).toBe(200);
    expect(
      (
        await fetch(`${engine.url}/v1/identify`, {
          method: 'POST',
          headers: { authorization: engine.auth.write, 'content-type': 'application/json' },
          body: JSON.stringify({ userId: 'bob', traits: { name: 'Bob' } }),
        })
      ).status,
    ).toBe(200);
    expect((await track('bob', 'Logged In')).status).toBe(200);
    expect((await track('bob', 'Project Created')).status).toBe(200);
    try {
      await eventually(() => expect(stream.frames.filter((f) => f.event === 'event')).toHaveLength(2));
      expect(stream.frames.filter((f) => f.event === 'event').map((f) => f.data)).toEqual(
        ['Logged In', 'Project Created'].map((name) => ({
          eventId: expect.any(String),
          type: 'InteractionRecorded',
          name,
          customerId: 'bob',
          occurredAt: expect.any(String),
          position: expect.stringMatching(/^\d+$/),
        })),
      );
    } finally {
      stream.close();
    }
  });

  it('refuses a bad filter in words and a write key', async () => {
    const bad = await fetch(`${engine.url}/v1/events/stream?types=a%20b`, { headers: { authorization: `Bearer ${analystKey}` } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain('types:');
    const write = await fetch(`${engine.url}/v1/events/stream`, { headers: { authorization: engine.auth.write } });
    expect(write.status).toBe(403);
  });
});
