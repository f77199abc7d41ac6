import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';

/** The parts of Express's request and response used here. */
interface Request {
  method: string;
  path: string;
  accepts(type: string): string | false;
}
interface Response {
  setHeader(name: string, value: string): void;
  status(code: number): Response;
  type(type: string): Response;
  send(body: string | Buffer): void;
}
type NextFunction = () => void;

/** Paths the console never answers: the API, its docs, health and metrics. */
const ENGINE_PATHS = /^\/(v1|docs|health|metrics)(\/|$|-)/;

/** The built console (dist/console, `npm run build`): JOURNEY_CONSOLE_DIR, else found beside the package.json above here. */
export function consoleDir(): string | undefined {
  if (process.env.JOURNEY_CONSOLE_DIR) return process.env.JOURNEY_CONSOLE_DIR;
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir))
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'dist', 'console');
  return undefined;
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Journey Engine</title></head>
<body><main><h1>The console is not built</h1><p>Run <code>npm run build</code> (or <code>npm start</code>, which builds it) and reload.
The API is at <a href="/docs">/docs</a>.</p></main></body></html>`;

/**
 * Serves the console at `/`: its hashed assets with a year of caching, and index.html (never cached) for every other
 * GET that asks for HTML outside the API, so that its routes (/customers/bob) survive a reload.
 */
export function serveConsole(app: NestExpressApplication, dir = consoleDir()): void {
  const index = dir === undefined ? undefined : join(dir, 'index.html');
  if (dir !== undefined && existsSync(index!)) {
    app.useStaticAssets(join(dir, 'assets'), { prefix: '/assets/', immutable: true, maxAge: '365d', index: false });
    app.useStaticAssets(dir, { index: false, maxAge: 0 });
  }
  app.use((req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || ENGINE_PATHS.test(req.path) || !req.accepts('html')) return next();
    res.setHeader('cache-control', 'no-cache');
    if (index !== undefined && existsSync(index)) res.type('html').send(readFileSync(index));
    else res.status(503).type('html').send(NOT_BUILT);
  });
}
