import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Shared helpers for benchmarks: run the built engine as a child process and talk HTTP to it. */

export const ROOT = resolve(__dirname, '..', '..', '..');
export const WRITE_KEY = 'bench-write-key';
export const ADMIN_KEY = 'bench-admin-key';

export interface RunningEngine {
  url: string;
  port: number;
  dataDir: string;
  process: ChildProcess;
  stop(): Promise<void>;
  rssMb(): number;
  /** CPU time (user + system) the engine process has used so far, in seconds. */
  cpuSeconds(): number;
}

/** `onSpawn` sees the process before it is healthy (the crash probe kills some engines during start-up). */
export async function startEngine(
  env: Record<string, string> = {},
  port = 39000 + Math.floor(Math.random() * 1000),
  onSpawn?: (child: ChildProcess) => void,
): Promise<RunningEngine> {
  const dataDir = env.JOURNEY_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'journey-bench-'));
  // BENCH_ENGINE_NODE_ARGS: extra node flags for the engine under test, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = (process.env.BENCH_ENGINE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'dist/apps/engine/src/main.js')], {
    env: {
      ...process.env,
      EVENTSTOREDB_URL: '',
      MONGODB_URL: '',
      KAFKA_BROKERS: '',
      PORT: String(port),
      JOURNEY_DATA_DIR: dataDir,
      JOURNEY_WRITE_KEY: WRITE_KEY,
      JOURNEY_ADMIN_KEY: ADMIN_KEY,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  onSpawn?.(child);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`engine exited with code ${child.exitCode} (signal ${child.signalCode})`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error('engine did not become healthy within 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    port,
    dataDir,
    process: child,
    rssMb: () => {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : NaN;
    },
    cpuSeconds: () => {
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (USER_HZ = 100)
    },
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        const force = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.once('exit', () => {
          clearTimeout(force);
          done();
        });
        child.kill('SIGTERM');
      }),
  };
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** POST a JSON body; resolves with the status and the elapsed milliseconds. */
export function postJson(url: string, path: string, body: string, key = WRITE_KEY): Promise<{ status: number; ms: number; text: string }> {
  const started = process.hrtime.bigint();
  return new Promise((resolveRequest, reject) => {
    const u = new URL(path, url);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}`,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => resolveRequest({ status: res.statusCode ?? 0, ms: Number(process.hrtime.bigint() - started) / 1e6, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Realistic Segment calls for `customers` customers: identify now and then, mostly tracks. */
export function makeCall(i: number, customers: number, runId: string): Record<string, unknown> {
  const userId = `user-${i % customers}`;
  const timestamp = new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
  if (i % 20 === 0)
    return {
      type: 'identify',
      userId,
      messageId: `${runId}-${i}`,
      timestamp,
      traits: { email: `${userId}@example.com`, plan: i % 3 ? 'pro' : 'free', first_name: 'Ada' },
    };
  return {
    type: 'track',
    userId,
    messageId: `${runId}-${i}`,
    timestamp,
    event: i % 7 ? 'Feature Used' : 'Logged In',
    properties: { feature: `f${i % 13}`, count: i % 5, plan: 'pro' },
  };
}
