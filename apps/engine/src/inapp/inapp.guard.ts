import {
  HttpException,
  HttpStatus,
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Injectable,
  SetMetadata,
  UnauthorizedException,
  applyDecorators,
  createParamDecorator,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiForbiddenResponse, ApiSecurity, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { secretNamed } from '@journey/domain';
import { TokenBuckets } from '../auth/rate-limit';
import { SettingsService } from '../conversations/organisation.service';
import { MAX_CUSTOMER_ID, verifyCustomerToken } from './customer-token';

/** The customer an in-app request is authenticated as (by its customer token). */
export interface InAppCustomer {
  workspaceId: string;
  customerId: string;
}

const QUERY_TOKEN = 'journey:inapp-query-token';

/**
 * The handler also takes `?customerId=&token=` (the SSE stream: EventSource cannot set headers). Only there: a token
 * in a URL ends up in logs and browser histories.
 */
export const TokenInQuery = () => SetMetadata(QUERY_TOKEN, true);

/** The authenticated customer of the request. */
export const CurrentCustomer = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): InAppCustomer => ctx.switchToHttp().getRequest().inAppCustomer,
);

/**
 * OpenAPI of a customer-token endpoint: the security schemes `customerId` and `customerToken` (both, registered in
 * bootstrap.ts) instead of the server key, its 401 and 403.
 */
export const ApiCustomerToken = () =>
  applyDecorators(
    ApiSecurity({ customerId: [], customerToken: [] }),
    ApiUnauthorizedResponse({
      description: 'No customer id or token, or a token that is not the customer id signed with the identity secret',
    }),
    ApiForbiddenResponse({ description: 'In-app is not set up for this workspace (no identity secret configured)' }),
  );

/** Requests per second one customer's clients may make together, with a burst; customers tracked at most. */
export const CUSTOMER_RATE_LIMIT = { perSecond: 10, burst: 30 };
export const CUSTOMER_BUCKETS = 100_000;

const single = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * Authenticates the customer's own client on `/v1/client/:workspaceId/...`: `X-Customer-Id` and `X-Customer-Token`
 * (the HMAC-SHA256 of the id with the workspace's identity secret, `inApp.identitySecret`), compared in constant
 * time. A workspace without an identity secret: 403; a missing or wrong token: 401. Runs after the key guard, which
 * lets these `@Allow()` routes through: a server key is neither needed nor enough here.
 */
@Injectable()
export class InAppGuard implements CanActivate {
  private readonly buckets = new TokenBuckets(CUSTOMER_RATE_LIMIT, CUSTOMER_BUCKETS);

  constructor(
    private readonly settings: SettingsService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<{
      params: Record<string, string>;
      headers: Record<string, unknown>;
      query: Record<string, unknown>;
      inAppCustomer?: InAppCustomer;
    }>();
    const workspaceId = request.params.workspaceId;
    const state = await this.settings.load(workspaceId);
    const secret = secretNamed(state, state.settings.inApp?.identitySecret);
    if (secret === undefined)
      throw new ForbiddenException(
        `in-app is not set up for workspace "${workspaceId}": an admin sets settings inApp.identitySecret to the name of a secret (PUT /v1/admin/workspace/settings and /v1/admin/workspace/secrets/:name)`,
      );
    const inQuery = this.reflector.get<boolean | undefined>(QUERY_TOKEN, context.getHandler()) === true;
    const customerId = single(request.headers['x-customer-id']) ?? (inQuery ? single(request.query.customerId) : undefined);
    const token = single(request.headers['x-customer-token']) ?? (inQuery ? single(request.query.token) : undefined);
    if (customerId === undefined || customerId === '' || token === undefined || token === '')
      throw new UnauthorizedException(
        `a customer token is required: headers X-Customer-Id and X-Customer-Token${inQuery ? ' (or ?customerId=&token=)' : ''}, the token being HMAC-SHA256 of the customer id with the workspace's identity secret, in hex`,
      );
    if (customerId.length > MAX_CUSTOMER_ID)
      throw new UnauthorizedException(`X-Customer-Id: at most ${MAX_CUSTOMER_ID} characters, got ${customerId.length}`);
    if (!verifyCustomerToken(secret, customerId, token))
      throw new UnauthorizedException(
        "X-Customer-Token: not this customer's token (HMAC-SHA256 of the customer id with the workspace's identity secret, in hex)",
      );
    const wait = this.buckets.take(`${workspaceId}\u0000${customerId}`, Date.now());
    if (wait > 0)
      throw new HttpException(
        `customer "${customerId}" is over the in-app rate limit (${CUSTOMER_RATE_LIMIT.perSecond} requests per second, burst ${CUSTOMER_RATE_LIMIT.burst}): retry in ${Math.ceil(wait)} s`,
        HttpStatus.TOO_MANY_REQUESTS,
      );
    request.inAppCustomer = { workspaceId, customerId };
    return true;
  }
}
