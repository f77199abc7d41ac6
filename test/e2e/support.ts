import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createEngineApp } from '../../apps/engine/src/bootstrap';
import { EMBEDDED_DEFAULT } from '../support/engine-process';

/** The engine, in-process, on 127.0.0.1 and a random port, for end-to-end tests. */
export interface TestEngine {
  app: NestExpressApplication;
  url: string;
  dataDir: string;
  writeKey: string;
  adminKey: string;
  /** `Authorization` header values for the two keys. */
  auth: { write: string; admin: string };
  /** Stops the app; removes the data directory unless the caller gave it. */
  close(): Promise<void>;
}

export interface StartEngineOptions {
  /** Extra environment for the engine's configuration (it is read from process.env while the app is created). */
  env?: Record<string, string>;
  /** Reuse a data directory (e.g. to test a restart); default: a fresh temp dir removed on close. */
  dataDir?: string;
}

let starting: Promise<unknown> = Promise.resolve();

export async function startEngine(options: StartEngineOptions = {}): Promise<TestEngine> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'journey-e2e-'));
  const writeKey = options.env?.JOURNEY_WRITE_KEY ?? `wk_${randomBytes(9).toString('hex')}`;
  const adminKey = options.env?.JOURNEY_ADMIN_KEY ?? `ak_${randomBytes(9).toString('hex')}`;
  // In jest's process every role runs on the main thread (a worker thread could not load the TypeScript sources);
  // engines spawned by test/support/engine-process.ts run as `npm start` does, with the worker thread.
  const env = {
    LOG_LEVEL: 'error',
    JOURNEY_WORKER_ROLES: '',
    ...EMBEDDED_DEFAULT,
    ...options.env,
    JOURNEY_DATA_DIR: dataDir,
    JOURNEY_WRITE_KEY: writeKey,
    JOURNEY_ADMIN_KEY: adminKey,
    PORT: '0',
  };
  // The configuration is read from process.env while the app is created: one start at a time, then restore it.
  const started = starting.then(async () => {
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    try {
      const app = await createEngineApp({ logLevel: env.LOG_LEVEL });
      await app.listen(0, '127.0.0.1');
      return app;
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
  starting = started.catch(() => undefined);
  const app = await started;
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    url: `http://127.0.0.1:${address.port}`,
    dataDir,
    writeKey,
    adminKey,
    auth: { write: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`, admin: `Bearer ${adminKey}` },
    close: async () => {
      await app.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
