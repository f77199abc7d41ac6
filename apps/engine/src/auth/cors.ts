import type { INestApplication } from '@nestjs/common';
import { listRoutes, pathMatcher } from './routes';

/** How long a browser may cache a preflight answer (seconds). */
const PREFLIGHT_MAX_AGE = 86_400;
const ALLOWED_HEADERS = ['Authorization', 'Content-Type'];

interface CorsRequest {
  method: string;
  path: string;
  header(name: string): string | undefined;
}

/**
 * CORS. Routes a write key may call (ingestion, inbox opens) answer any origin, as Segment's API does: browser SDKs
 * send from the customer's site, and a write key is no secret there. No credentials (cookies) are involved, only the
 * Authorization header. The other routes answer only the origins of JOURNEY_CORS_ORIGINS (none by default): their
 * keys do not belong in browsers of other sites.
 */
export function enableCors(app: INestApplication, adminOrigins: string[]): void {
  const browserRoutes = listRoutes(app)
    .filter((r) => r.roles.includes('write'))
    .map((r) => ({ method: r.method, matches: pathMatcher(r.path) }));
  const isBrowserRoute = (req: CorsRequest) => {
    const method = req.method === 'OPTIONS' ? req.header('access-control-request-method')?.toUpperCase() : req.method;
    return browserRoutes.some((r) => r.method === method && r.matches.test(req.path));
  };
  app.enableCors((req: CorsRequest, callback: (error: Error | null, options: object) => void) => {
    const common = { allowedHeaders: ALLOWED_HEADERS, exposedHeaders: ['Retry-After'], maxAge: PREFLIGHT_MAX_AGE, credentials: false };
    if (isBrowserRoute(req)) callback(null, { ...common, origin: '*', methods: ['POST'] });
    else if (adminOrigins.length) callback(null, { ...common, origin: adminOrigins, methods: ['GET', 'POST', 'PUT', 'DELETE'] });
    else callback(null, { origin: false });
  });
}
