import 'reflect-metadata';
import { createEngineApp } from './bootstrap';
import { loadConfig } from './config';

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createEngineApp({ logLevel: config.logLevel });
  await app.listen(config.port, '0.0.0.0');
  app.getHttpServer().keepAliveTimeout = 65_000;
  console.log(`journey: engine listening on http://localhost:${config.port} (data in ${config.dataDir}; roles ${[...config.roles].join(', ')}); API docs at /docs`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
