import { CanActivate, ExecutionContext, ForbiddenException, Injectable, SetMetadata, UnauthorizedException, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { KeyStore, keyFromAuthorization, type KeyRole, type Principal } from './key-store';

const ROLES_KEY = 'journey:roles';

/** Which key roles may call a handler. Ingestion: `@Allow('write')`; queries: `@Allow('admin', 'csm', 'analyst')`. */
export const Allow = (...roles: KeyRole[]) => SetMetadata(ROLES_KEY, roles);

/** The authenticated workspace and role of the request. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => ctx.switchToHttp().getRequest().principal);

/** Every endpoint needs a key; handlers without `@Allow` are admin-only. Routes marked `@Allow()` with no role are public. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly keys: KeyStore,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const roles = this.reflector.getAllAndOverride<KeyRole[] | undefined>(ROLES_KEY, [context.getHandler(), context.getClass()]) ?? ['admin'];
    if (roles.length === 0) return true;
    const request = context.switchToHttp().getRequest();
    const principal = this.keys.authenticate(keyFromAuthorization(request.headers.authorization));
    if (!principal) throw new UnauthorizedException('a valid key is required: HTTP Basic with the write key as user name, or Authorization: Bearer <key>');
    if (!roles.includes(principal.role)) throw new ForbiddenException(`this endpoint needs a key with role ${roles.join(' or ')}; this key has role ${principal.role}`);
    request.principal = principal;
    return true;
  }
}
