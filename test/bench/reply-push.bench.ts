/**
 * A customer's reply reaches the agent (issue 11, bar 1): while the engine ingests a steady 1,000 events/s over
 * /v1/batch (steady-load.ts, harness.makeCall's calls), customers reply one after the other in conversations assigned
 * to one member; per reply we measure from its acknowledgement (ConversationsService.receive resolved: the events are
 * durable) to (i) the reply visible in the member's GET /v1/work (its `lastMessageId`; polled every 5 ms) and (ii) the
 * reply pushed on the member's open GET /v1/work/stream (SSE). Target: p99 < 100 ms each.
 * The engine runs in this process, as `npm start` runs it (HTTP and reactors on this thread, the projector,
 * dispatcher and relay in the worker thread), so the replies are direct service calls, the way the inbound endpoints
 * (in-app, email, Slack) record them; the load, the polling and the SSE client are HTTP on 127.0.0.1. The figures
 * cover the steady state after a warm-up (default 3 s).
 * Run: npm run build && node dist/test/bench/reply-push.bench.js [--rate N --seconds N --warmup N --short]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request, Agent, type ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createEngineApp } from '../../apps/engine/src/bootstrap';
import { ConversationsService } from '../../apps/engine/src/conversations/conversations.service';
import { ADMIN_KEY, WRITE_KEY, percentile } from './harness';

/** The steady ingest load, from a process of its own (steady-load.ts): stop() ends it and resolves with its figures. */
function loadProcess(url: string, rate: number) {
  const child = spawn(process.execPath, [join(__dirname, 'steady-load.js'), url, String(rate), WRITE_KEY], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  return {
    stop: () =>
      new Promise<{ sent: number; seconds: number; eventsPerSec: number; errors: number }>((resolve, reject) => {
        child.once('exit', () => {
          try {
            resolve(JSON.parse(out.trim()));
          } catch {
            reject(new Error(`the load process printed no figures: ${out}`));
          }
        });
        child.stdin.end();
      }),
  };
}

export const TARGET_P99_MS = 100;
const MEMBER = 'ann';
const OPEN_ITEMS = 50;
const POLL_MS = 5;

export interface ReplyPushFigures {
  bench: 'reply-push';
  ingestRate: number;
  seconds: number;
  replies: number;
  /** Acknowledged reply -> in the member's GET /v1/work answer. */
  visibleInWorkMs: { p50: number; p90: number; p99: number; max: number };
  /** Acknowledged reply -> pushed on the member's SSE stream. */
  pushedMs: { p50: number; p90: number; p99: number; max: number };
  /** ConversationsService.receive itself (read the stream, decide, append durably). */
  acknowledgeMs: { p50: number; p99: number };
  missed: { visible: number; pushed: number };
  warmup: { seconds: number; replies: number };
  ingestErrors: number;
  targetP99Ms: number;
  meetsTargets: boolean;
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const r = (v: number) => +v.toFixed(1);
  return { p50: r(percentile(s, 50)), p90: r(percentile(s, 90)), p99: r(percentile(s, 99)), max: r(s[s.length - 1] ?? NaN) };
};

const agent = new Agent({ keepAlive: true, maxSockets: 8 });
function getJson(url: string, path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, url);
    const req = request(
      { host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, agent, headers: { authorization: `Bearer ${ADMIN_KEY}` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`${path}: ${res.statusCode} ${body}`))));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The member's stream: calls `onMessage(messageId)` for every pushed change that carries a message. */
function openStream(url: string, onMessage: (messageId: string) => void): Promise<ClientRequest> {
  return new Promise((resolve, reject) => {
    const u = new URL(`/v1/work/stream?assignee=${MEMBER}`, url);
    const req = request(
      { host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, headers: { authorization: `Bearer ${ADMIN_KEY}` } },
      (res) => {
        if (res.statusCode !== 200) return reject(new Error(`stream answered ${res.statusCode}`));
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let cut;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (block.includes('event: ready')) resolve(req);
            else if (data) {
              const change = JSON.parse(data) as { messageId?: string };
              if (change.messageId) onMessage(change.messageId);
            }
          }
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export async function run(options: { rate?: number; seconds?: number; warmupSeconds?: number } = {}): Promise<ReplyPushFigures> {
  const rate = options.rate ?? 1000;
  const seconds = options.seconds ?? 20;
  const warmupSeconds = options.warmupSeconds ?? 3;
  const dataDir = mkdtempSync(join(tmpdir(), 'journey-reply-bench-'));
  Object.assign(process.env, {
    EVENTSTOREDB_URL: '',
    MONGODB_URL: '',
    KAFKA_BROKERS: '',
    JOURNEY_DATA_DIR: dataDir,
    JOURNEY_WRITE_KEY: WRITE_KEY,
    JOURNEY_ADMIN_KEY: ADMIN_KEY,
    JOURNEY_RATE_LIMIT_PER_SECOND: '0',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  const app: NestExpressApplication = await createEngineApp({ logLevel: process.env.LOG_LEVEL });
  await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  const conversations = app.get(ConversationsService);
  let stream: ClientRequest | undefined;
  try {
    // the member's queue: OPEN_ITEMS conversations assigned to them
    const items: Array<{ customerId: string; conversationId: string }> = [];
    for (let i = 0; i < OPEN_ITEMS; i++) {
      const customerId = `replier-${i}`;
      const { conversation } = await conversations.receive('default', customerId, { channel: 'inbox', body: 'Hello?' }, 'bench');
      await conversations.act(
        'default',
        customerId,
        conversation.conversationId,
        { type: 'Assign', team: 'support', assignee: MEMBER, priority: 'normal', reason: 'manual' },
        { source: 'bench' },
      );
      items.push({ customerId, conversationId: conversation.conversationId });
    }
    const pushed = new Map<string, number>();
    stream = await openStream(url, (messageId) => pushed.set(messageId, performance.now()));
    const load = loadProcess(url, rate);

    const visibleMs: number[] = [];
    const pushedMs: number[] = [];
    const ackMs: number[] = [];
    const missed = { visible: 0, pushed: 0 };
    let warmupReplies = 0;
    const started = performance.now();
    for (let n = 0; performance.now() - started < (warmupSeconds + seconds) * 1000; n++) {
      const warm = performance.now() - started < warmupSeconds * 1000;
      const item = items[n % items.length];
      const sentAt = performance.now();
      const { conversation } = await conversations.receive(
        'default',
        item.customerId,
        { channel: 'inbox', body: `Reply ${n}: is there any news on my question?`, conversationId: item.conversationId },
        'bench',
      );
      const ackAt = performance.now();
      const messageId = conversation.thread.at(-1)!.messageId;
      let visibleAt: number | undefined;
      const deadline = ackAt + 2000;
      while (visibleAt === undefined && performance.now() < deadline) {
        const page = (await getJson(url, `/v1/work?assignee=${MEMBER}`)) as { items: Array<{ lastMessageId: string | null }> };
        if (page.items.some((i) => i.lastMessageId === messageId)) visibleAt = performance.now();
        else await new Promise((r) => setTimeout(r, POLL_MS));
      }
      while (!pushed.has(messageId) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 1));
      if (warm) {
        warmupReplies++;
        continue;
      }
      ackMs.push(ackAt - sentAt);
      if (visibleAt === undefined) missed.visible++;
      else visibleMs.push(visibleAt - ackAt);
      const pushedAt = pushed.get(messageId);
      if (pushedAt === undefined) missed.pushed++;
      else pushedMs.push(pushedAt - ackAt);
      await new Promise((r) => setTimeout(r, 20));
    }
    const ingest = await load.stop();
    const visible = stats(visibleMs);
    const push = stats(pushedMs);
    const ack = stats(ackMs);
    return {
      bench: 'reply-push',
      ingestRate: ingest.eventsPerSec,
      seconds: ingest.seconds,
      replies: ackMs.length,
      visibleInWorkMs: visible,
      pushedMs: push,
      acknowledgeMs: { p50: ack.p50, p99: ack.p99 },
      missed,
      warmup: { seconds: warmupSeconds, replies: warmupReplies },
      ingestErrors: ingest.errors,
      targetP99Ms: TARGET_P99_MS,
      meetsTargets: missed.visible === 0 && missed.pushed === 0 && visible.p99 < TARGET_P99_MS && push.p99 < TARGET_P99_MS,
    };
  } finally {
    stream?.destroy();
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const { values } = parseArgs({
    options: { rate: { type: 'string' }, seconds: { type: 'string' }, warmup: { type: 'string' }, short: { type: 'boolean' } },
  });
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  run({
    rate: num(values.rate),
    seconds: num(values.seconds) ?? (values.short ? 8 : undefined),
    warmupSeconds: num(values.warmup) ?? (values.short ? 2 : undefined),
  })
    .then((figures) => {
      console.log(JSON.stringify(figures, null, 2));
      process.exit(0); // the in-process engine's handles (worker thread, timers) are closed; do not wait on strays
    })
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
}
