import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DeliveryError, type RenderedMessage } from './channel';
import { WebhookChannel } from './webhook';

/** A full garbage collection: `global.gc` when node runs with --expose-gc, else the same function exposed at run time. */
function collectGarbage(): void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed();
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

const message: RenderedMessage = { messageId: 'm-1', channel: 'webhook', workspaceId: 'w', customerId: 'c', body: 'Hi', traits: {} };

/** Answers every POST with 200 after `delayMs`. */
async function slowReceiver(delayMs: number): Promise<{ url: string; server: Server; answered: () => number }> {
  let answered = 0;
  const server = createServer((req, res) => {
    req.resume();
    const timer = setTimeout(() => {
      answered++;
      res.writeHead(200).end('ok');
    }, delayMs);
    res.on('close', () => clearTimeout(timer));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, server, answered: () => answered };
}

describe('WebhookChannel timeout', () => {
  it('fails a call answered after 10 s with a 1 s timeout, even when garbage is collected meanwhile', async () => {
    // far beyond the timeout, so that a loaded machine that notices the timeout late still sees no answer
    const receiver = await slowReceiver(10_000);
    try {
      const channel = new WebhookChannel({ url: receiver.url, timeoutMs: 1000 });
      const sending = channel.send(message, { idempotencyKey: 'm-1', attempt: 1, signal: new AbortController().signal });
      const settled = sending.then(
        () => 'delivered',
        (e: unknown) => e,
      );
      // Collect while the call waits: a timeout signal only weakly held is gone after this.
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 100));
        collectGarbage();
      }
      const outcome = await settled;
      expect(outcome).toBeInstanceOf(DeliveryError);
      expect(outcome).toMatchObject({ retryable: true, message: 'webhook timed out after 1000 ms' });
      expect(receiver.answered()).toBe(0);
    } finally {
      receiver.server.closeAllConnections();
      await new Promise((r) => receiver.server.close(r));
    }
  });

  it('aborts when the dispatcher stops, and that is not a timeout', async () => {
    const receiver = await slowReceiver(2500);
    try {
      const channel = new WebhookChannel({ url: receiver.url, timeoutMs: 10_000 });
      const stopping = new AbortController();
      const sending = channel.send(message, { idempotencyKey: 'm-1', attempt: 1, signal: stopping.signal });
      setTimeout(() => stopping.abort(), 100);
      await expect(sending).rejects.toThrow(/webhook unreachable/);
    } finally {
      receiver.server.closeAllConnections();
      await new Promise((r) => receiver.server.close(r));
    }
  });

  it('delivers an answer that comes within the timeout', async () => {
    const receiver = await slowReceiver(50);
    try {
      const channel = new WebhookChannel({ url: receiver.url, timeoutMs: 1000 });
      await expect(channel.send(message, { idempotencyKey: 'm-1', attempt: 1, signal: new AbortController().signal })).resolves.toEqual({
        detail: 'HTTP 200',
      });
    } finally {
      await new Promise((r) => receiver.server.close(r));
    }
  });
});
