import 'reflect-metadata';
import { createEngineApp } from '../../apps/engine/src/bootstrap';

/** Child-process entry for engine-process.ts: the engine as main.ts starts it, on 127.0.0.1 and a random port it reports over IPC. */
async function main(): Promise<void> {
  const app = await createEngineApp({ logLevel: process.env.LOG_LEVEL ?? 'error' });
  await app.listen(0, '127.0.0.1');
  process.send?.({ port: (app.getHttpServer().address() as { port: number }).port });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
