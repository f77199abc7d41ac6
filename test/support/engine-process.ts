import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

/**
 * The engine from its TypeScript sources in a child process (no build needed), for tests that kill it (kill -9,
 * SIGTERM) or restart it on the same data directory.
 */
export interface EngineProcess {
  url: string;
  child: ChildProcess;
  writeKey: string;
  adminKey: string;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends the signal and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const ROOT = join(__dirname, '..', '..');

/**
 * The engines an engine under test uses unless the test asks for others: the embedded default, even when the shell
 * (or .ci/run) exported the server variables for the suites that test the adapters themselves.
 */
export const EMBEDDED_DEFAULT: Record<string, string> = { EVENTSTOREDB_URL: '', MONGODB_URL: '', KAFKA_BROKERS: '' };

export async function spawnEngine(options: {
  dataDir: string;
  env?: Record<string, string>;
  startTimeoutMs?: number;
}): Promise<EngineProcess> {
  const writeKey = options.env?.JOURNEY_WRITE_KEY ?? `wk_${randomBytes(9).toString('hex')}`;
  const adminKey = options.env?.JOURNEY_ADMIN_KEY ?? `ak_${randomBytes(9).toString('hex')}`;
  const child = spawn(process.execPath, ['-r', join(ROOT, 'test/support/ts-register.js'), join(ROOT, 'test/support/engine-child.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      LOG_LEVEL: 'error',
      ...EMBEDDED_DEFAULT,
      ...options.env,
      JOURNEY_DATA_DIR: options.dataDir,
      JOURNEY_WRITE_KEY: writeKey,
      JOURNEY_ADMIN_KEY: adminKey,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the engine child did not start in time'));
    }, options.startTimeoutMs ?? 60_000);
    child.once('message', (m: { port: number }) => {
      clearTimeout(timer);
      resolve(m.port);
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the engine child exited during start-up (code ${code}, signal ${signal})`));
    });
  });
  child.channel?.unref();
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    writeKey,
    adminKey,
    exited,
    kill: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
