/**
 * `npm run probe:crash [-- --short] [--kills=N] [--clients=N] [--max-up-ms=N] [--settle-ms=N]`: the engine as
 * `npm start` runs it, under concurrent /v1/batch ingestion (unique messageIds; a batch that got no answer is sent
 * again, as SDKs do) with one enabled trigger that sends a webhook for every `Probe Ping` to a receiver on 127.0.0.1,
 * SIGKILLed at random moments (some while it starts and recovers) and restarted on the same data directory each time;
 * an engine that exits by itself fails the probe. At the end (after a last restart and a graceful stop):
 * - every acknowledged messageId is stored exactly once (read from the SQLite file);
 * - every acknowledged ping got its webhook after recovery, its message decided once (one messageId per ping), and the
 *   receiver never saw a message twice with different Idempotency-Key headers (a resend after a kill keeps the key).
 * Short form (CI): 20 kills, a few minutes. Long form: 50 kills. Exits 1 on any failure; prints the counts.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingestedEventId, type RecordedEvent } from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase } from '@journey/event-store';
import { ADMIN_KEY, freePort, postJson, probeArgs, report, sleep, startProbeEngine, type RunningEngine } from './probe';

const WS = 'default';
const TRIGGER = {
  id: 'crash-probe-ping',
  name: 'Crash probe: a webhook per ping',
  reentry: 'every',
  entry: { event: 'Probe Ping' },
  steps: [{ send: { channel: 'webhook', body: '{{ event.ref }}' } }],
};
const BATCH = 50;
const PING_EVERY = 25; // one call in 25 is a ping (a webhook each)
const CUSTOMERS_PER_CLIENT = 250;

interface Received {
  messageId: string;
  idempotencyKey: string;
  ref: string;
}

async function main(): Promise<void> {
  const args = probeArgs();
  const kills = args.number('kills', 50, 20);
  const clients = args.number('clients', 4, 4);
  const maxUpMs = args.number('max-up-ms', 3000, 2500);
  const settleMs = args.number('settle-ms', 180_000, 120_000);
  const runId = randomUUID().slice(0, 8);
  const dataDir = mkdtempSync(join(tmpdir(), 'journey-probe-crash-'));

  // The webhook receiver: records every request, answers 200 after a short random delay (so kills land mid-send too).
  const received: Received[] = [];
  const receiver = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      try {
        const body = JSON.parse(raw) as { messageId: string; body: string };
        received.push({ messageId: body.messageId, idempotencyKey: String(req.headers['idempotency-key']), ref: body.body });
      } catch {
        received.push({
          messageId: '?',
          idempotencyKey: String(req.headers['idempotency-key']),
          ref: `unparsable body: ${raw.slice(0, 80)}`,
        });
      }
      setTimeout(() => res.writeHead(200).end(), Math.random() * 30);
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = await freePort();
  const env = { JOURNEY_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook` };

  let engine: RunningEngine = await startProbeEngine(dataDir, port, env);
  const admin = (path: string, body: unknown) =>
    fetch(`${engine.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  for (const [path, body] of [
    ['/v1/triggers', TRIGGER],
    [`/v1/triggers/${TRIGGER.id}/enable`, {}],
  ] as const) {
    const res = await admin(path, body);
    if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
  }

  // Load: each client sends batches of unique messageIds; a batch without a 200 is sent again until it is acked.
  const acked = new Set<string>();
  const ackedPings = new Set<string>();
  let sent = 0;
  let resent = 0;
  let stopping = false;
  const client = async (c: number) => {
    for (let seq = 0; !stopping; seq++) {
      const batch = Array.from({ length: BATCH }, (_, k) => {
        const messageId = `${runId}-${c}-${seq}-${k}`;
        const userId = `c${c}-u${(seq * BATCH + k) % CUSTOMERS_PER_CLIENT}`;
        return k % PING_EVERY === 0
          ? { type: 'track', userId, messageId, event: 'Probe Ping', properties: { ref: messageId } }
          : { type: 'track', userId, messageId, event: 'Used', properties: { n: k } };
      });
      const body = JSON.stringify({ batch });
      for (let attempt = 0; ; attempt++) {
        if (attempt > 0) resent++;
        sent++;
        const answer = await postJson(engine.url, '/v1/batch', body).catch(() => undefined);
        if (answer?.status === 200) {
          const parsed = JSON.parse(answer.text) as { accepted?: number; rejected?: unknown[] };
          if (parsed.accepted !== BATCH) throw new Error(`a batch was acked with ${answer.text}`);
          for (const call of batch) {
            acked.add(call.messageId);
            if (call.event === 'Probe Ping') ackedPings.add(call.messageId);
          }
          break;
        }
        if (answer && answer.status !== 503) throw new Error(`a batch was answered ${answer.status}: ${answer.text.slice(0, 200)}`);
        await sleep(50); // refused, reset or 503: the engine is down or stopping
      }
    }
  };
  const load = Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
  let loadError: unknown;
  load.catch((e) => (loadError = e));

  const started = Date.now();
  let killed = 0;
  let killedStarting = 0;
  const ackedAtKill: number[] = [];
  let died = 0;
  /** SIGKILLs the process and waits for its end; false when it had already ended by itself. */
  const killAndWait = (child: ChildProcess) =>
    new Promise<boolean>((r) => {
      if (child.exitCode !== null || child.signalCode !== null) return r(false);
      child.once('exit', (_c, signal) => r(signal === 'SIGKILL'));
      child.kill('SIGKILL');
    });
  while (killed < kills && !loadError && died === 0) {
    await sleep(Math.random() * maxUpMs);
    if (await killAndWait(engine.process)) killed++;
    else died++;
    ackedAtKill.push(acked.size);
    // One restart in four is killed again while it starts and recovers (before it answers /health), then restarted.
    while (killed < kills && died === 0 && Math.random() < 0.25) {
      let child: ChildProcess | undefined;
      const starting = startProbeEngine(dataDir, port, env, (c) => (child = c)).catch(() => undefined);
      await sleep(Math.random() * 1500);
      const wasRunning = await killAndWait(child!);
      const came = await starting;
      if (came) await killAndWait(came.process);
      if (wasRunning) {
        killed++;
        killedStarting++;
      } else died++;
    }
    engine = await startProbeEngine(dataDir, port, env);
    const line = `crash: ${killed}/${kills} kills (${killedStarting} during start-up), ${acked.size} acked, ${received.length} webhooks received`;
    if (process.stdout.isTTY)
      process.stdout.write(`\r${line}`); // a terminal gets a live line, a log (CI) a line per kill
    else console.log(line);
  }
  if (process.stdout.isTTY) process.stdout.write('\n');
  stopping = true;
  await load.catch(() => undefined);
  const loadSeconds = (Date.now() - started) / 1000;

  // Recovery: every acked ping gets its webhook from the last engine; then a graceful stop.
  const recovering = Date.now();
  const deadline = recovering + settleMs;
  const pinged = () => new Set(received.map((r) => r.ref));
  while (Date.now() < deadline && [...ackedPings].some((p) => !pinged().has(p))) await sleep(500);
  const recoverySeconds = (Date.now() - recovering) / 1000;
  await engine.stop();
  receiver.closeAllConnections();
  receiver.close();

  // What the log holds: every ingested call's messageId is its correlationId (and its event id is derived from it).
  const db = openSqliteDatabase(join(dataDir, 'journey.db'));
  const storedCount = new Map<string, number>();
  const storedIds = new Set<string>();
  try {
    const store = new SqliteEventStore(db);
    for (let after = 0n; ;) {
      const page: RecordedEvent[] = await store.readAll({ after, maxCount: 10_000 });
      if (page.length === 0) break;
      for (const e of page) {
        if (e.metadata.source !== 'http') continue;
        storedIds.add(e.id);
        const m = e.metadata.correlationId ?? '';
        storedCount.set(m, (storedCount.get(m) ?? 0) + 1);
      }
      after = page[page.length - 1].position;
    }
  } finally {
    db.close();
  }

  const lost = [...acked].filter((m) => !storedIds.has(ingestedEventId(WS, m)));
  const duplicated = [...storedCount].filter(([, n]) => n > 1).map(([m]) => m);
  const keysByMessage = new Map<string, Set<string>>();
  const messagesByPing = new Map<string, Set<string>>();
  for (const r of received) {
    keysByMessage.set(r.messageId, (keysByMessage.get(r.messageId) ?? new Set()).add(r.idempotencyKey));
    messagesByPing.set(r.ref, (messagesByPing.get(r.ref) ?? new Set()).add(r.messageId));
  }
  const keyMismatch = [...keysByMessage]
    .filter(([m, keys]) => keys.size > 1 || !keys.has(m))
    .map(([m, keys]) => `${m}: ${[...keys].join(', ')}`);
  const decidedTwice = [...messagesByPing].filter(([, ms]) => ms.size > 1).map(([p, ms]) => `${p}: ${[...ms].join(', ')}`);
  const missing = [...ackedPings].filter((p) => !messagesByPing.has(p));
  const unasked = [...messagesByPing.keys()].filter((p) => !storedIds.has(ingestedEventId(WS, p)));

  const failures: string[] = [];
  const sample = (xs: string[]) => xs.slice(0, 5).join('; ') + (xs.length > 5 ? ` (+${xs.length - 5} more)` : '');
  if (loadError) failures.push(`the load stopped: ${(loadError as Error).message}`);
  if (died) failures.push(`${died} engine processes exited by themselves (see their output above)`);
  if (acked.size === 0 || ackedPings.size === 0) failures.push('nothing was acknowledged');
  if (new Set(ackedAtKill).size < Math.min(kills, ackedAtKill.length) / 2)
    failures.push('most kills saw no new acknowledgement: the load did not run between kills');
  if (lost.length) failures.push(`${lost.length} acknowledged messageIds lost: ${sample(lost)}`);
  if (duplicated.length) failures.push(`${duplicated.length} messageIds stored more than once: ${sample(duplicated)}`);
  if (keyMismatch.length) failures.push(`${keyMismatch.length} messages received with a different Idempotency-Key: ${sample(keyMismatch)}`);
  if (decidedTwice.length) failures.push(`${decidedTwice.length} pings sent as two different messages: ${sample(decidedTwice)}`);
  if (missing.length)
    failures.push(
      `${missing.length} acknowledged pings never reached the webhook within ${settleMs / 1000} s of the last restart: ${sample(missing)}`,
    );
  if (unasked.length) failures.push(`${unasked.length} webhooks for pings not in the log: ${sample(unasked)}`);
  const resentSameKey = received.length - keysByMessage.size;
  report('crash', failures, {
    kills: killed,
    killsDuringStartup: killedStarting,
    diedByThemselves: died,
    seconds: Math.round(loadSeconds),
    recoverySeconds: Math.round(recoverySeconds),
    batchesSent: sent,
    batchesResent: resent,
    acked: acked.size,
    stored: storedIds.size,
    lost: lost.length,
    duplicated: duplicated.length,
    ackedPings: ackedPings.size,
    webhooks: received.length,
    webhookMessages: keysByMessage.size,
    webhookResentSameKey: resentSameKey,
    webhookDifferentKey: keyMismatch.length,
    pingsSentTwice: decidedTwice.length,
    pingsMissing: missing.length,
    dataDir: failures.length ? dataDir : undefined,
  });
  if (!failures.length) rmSync(dataDir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
