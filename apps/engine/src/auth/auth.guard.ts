import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  SetMetadata,
  UnauthorizedException,
  applyDecorators,
  createParamDecorator,
} from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ENGINE_CONFIG, type EngineConfig } from '../config';
import { KeyStore, keyFromAuthorization, type KeyRole, type Principal } from './key-store';
import { TokenBuckets } from './rate-limit';
import { ROLES_KEY, rolesOf } from './routes';

/** Which key roles may call a handler. Ingestion: `@Allow('write')`; queries: `@Allow('admin', 'csm', 'analyst')`. */
export const Allow = (...roles: KeyRole[]) => SetMetadata(ROLES_KEY, roles);

/** OpenAPI of a keyed controller: the bearer key, and its 401 and 403 (`forbidden`: which keys are refused). */
export const ApiKeyAuth = (forbidden = 'The key does not have a role allowed here') =>
  applyDecorators(
    ApiBearerAuth('key'),
    ApiUnauthorizedResponse({ description: 'No key or an unknown key' }),
    ApiForbiddenResponse({ description: forbidden }),
  );

/** The authenticated workspace, role and key of the request. */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal => ctx.switchToHttp().getRequest().principal,
);

/**
 * Every endpoint needs a key; handlers without `@Allow` are admin-only. Routes marked `@Allow()` with no role are
 * public. Each key is rate limited (JOURNEY_RATE_LIMIT_PER_SECOND / _BURST): over its limit, 429 with Retry-After.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly buckets: TokenBuckets;

  constructor(
    private readonly keys: KeyStore,
    @Inject(ENGINE_CONFIG) config: EngineConfig,
  ) {
    this.buckets = new TokenBuckets(config.rateLimit);
  }

  canActivate(context: ExecutionContext): boolean {
    const roles = rolesOf(context.getHandler(), context.getClass());
    if (roles.length === 0) return true;
    const request = context.switchToHttp().getRequest();
    const principal = this.keys.authenticate(keyFromAuthorization(request.headers.authorization));
    if (!principal)
      throw new UnauthorizedException(
        'a valid key is required: HTTP Basic with the write key as user name, or Authorization: Bearer <key>',
      );
    const wait = this.buckets.take(principal.keyId, Date.now());
    if (wait > 0) {
      const seconds = Math.max(1, Math.ceil(wait));
      context.switchToHttp().getResponse().setHeader('Retry-After', String(seconds));
      const { perSecond, burst } = this.buckets.limit;
      throw new HttpException(
        {
          statusCode: 429,
          error: 'Too Many Requests',
          message: `rate limit of this key exceeded (${perSecond} requests/s, bursts of ${burst}): retry after ${seconds} s`,
        },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    if (!roles.includes(principal.role))
      throw new ForbiddenException(`this endpoint needs a key with role ${roles.join(' or ')}; this key has role ${principal.role}`);
    request.principal = principal;
    return true;
  }
}
