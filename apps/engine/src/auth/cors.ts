import type { INestApplication } from '@nestjs/common';
import { listRoutes, pathMatcher } from './routes';

/** How long a browser may cache a preflight answer (seconds). */
const PREFLIGHT_MAX_AGE = 86_400;
const ALLOWED_HEADERS = ['Authorization', 'Content-Type'];
/** The in-app client's requests carry a customer token, never a key; Last-Event-ID: an EventSource resuming. */
const CLIENT_HEADERS = ['Content-Type', 'X-Customer-Id', 'X-Customer-Token', 'Last-Event-ID'];
/** `/v1/client/:workspaceId/...`: the in-app client API (apps/engine/src/inapp). */
const CLIENT_PATH = /^\/v1\/client\/([^/]+)(?:\/|$)/;

/** The workspace of an in-app client path, or undefined (another path, or a malformed escape). */
export function clientWorkspaceOf(path: string): string | undefined {
  const match = CLIENT_PATH.exec(path);
  if (!match) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return undefined;
  }
}

interface CorsRequest {
  method: string;
  path: string;
  header(name: string): string | undefined;
}

/**
 * CORS. Routes a write key may call (ingestion, inbox opens) answer any origin, as Segment's API does: browser SDKs
 * send from the customer's site, and a write key is no secret there. No credentials (cookies) are involved, only the
 * Authorization header. The other routes answer only the origins of JOURNEY_CORS_ORIGINS (none by default): their
 * keys do not belong in browsers of other sites. The in-app client API (`/v1/client/:workspaceId/...`) answers only the
 * origins of that workspace's settings (`inApp.allowedOrigins`, read by `clientOrigins`): another origin's preflight
 * gets no Access-Control-Allow-Origin, so its browser sends nothing.
 */
export function enableCors(
  app: INestApplication,
  adminOrigins: string[],
  clientOrigins: (workspaceId: string) => Promise<string[]> = async () => [],
): void {
  const browserRoutes = listRoutes(app)
    .filter((r) => r.roles.includes('write'))
    .map((r) => ({ method: r.method, matches: pathMatcher(r.path) }));
  const isBrowserRoute = (req: CorsRequest) => {
    const method = req.method === 'OPTIONS' ? req.header('access-control-request-method')?.toUpperCase() : req.method;
    return browserRoutes.some((r) => r.method === method && r.matches.test(req.path));
  };
  app.enableCors((req: CorsRequest, callback: (error: Error | null, options: object) => void) => {
    const common = { allowedHeaders: ALLOWED_HEADERS, exposedHeaders: ['Retry-After'], maxAge: PREFLIGHT_MAX_AGE, credentials: false };
    const workspaceId = clientWorkspaceOf(req.path);
    if (workspaceId !== undefined) {
      // a short preflight cache: a removed origin stops working within ten minutes
      const client = { ...common, allowedHeaders: CLIENT_HEADERS, maxAge: 600, methods: ['GET', 'POST'] };
      clientOrigins(workspaceId).then(
        (origins) => callback(null, { ...client, origin: [...origins] }),
        () => callback(null, { ...client, origin: [] }),
      );
    } else if (isBrowserRoute(req)) callback(null, { ...common, origin: '*', methods: ['POST'] });
    else if (adminOrigins.length) callback(null, { ...common, origin: adminOrigins, methods: ['GET', 'POST', 'PUT', 'DELETE'] });
    else callback(null, { origin: false });
  });
}
