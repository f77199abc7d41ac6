import { RequestMethod, type INestApplicationContext, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { MetadataScanner, ModulesContainer } from '@nestjs/core';
import type { KeyRole } from './api-keys';

export const ROLES_KEY = 'journey:roles';

/**
 * The roles `@Allow` gives a handler (its own, else its controller's); no `@Allow` at all: admin only; `@Allow()`
 * with no role: public. The one rule the guard applies and the route table reports.
 */
export function rolesOf(handler: object, controller: object): KeyRole[] {
  return (
    (Reflect.getMetadata(ROLES_KEY, handler) as KeyRole[] | undefined) ??
    (Reflect.getMetadata(ROLES_KEY, controller) as KeyRole[] | undefined) ?? ['admin']
  );
}

export interface Route {
  /** `GET`, `POST`, ... */
  method: string;
  /** Express-style path, e.g. `/v1/customers/:id/timeline`. */
  path: string;
  /** Who may call it; empty: public. */
  roles: KeyRole[];
}

/** Every route of the application's controllers, as Nest's router registers them. */
export function listRoutes(app: INestApplicationContext): Route[] {
  const scanner = new MetadataScanner();
  const routes: Route[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type<unknown> | undefined;
      if (!controller?.prototype) continue;
      const bases = paths(Reflect.getMetadata(PATH_METADATA, controller));
      for (const name of scanner.getAllMethodNames(controller.prototype)) {
        const handler = (controller.prototype as Record<string, object>)[name];
        const own = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        if (own === undefined) continue;
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
        for (const base of bases)
          for (const path of paths(own)) routes.push({ method, path: join(base, path), roles: rolesOf(handler, controller) });
      }
    }
  }
  return routes;
}

/** A matcher of request paths for a route path (`:param` matches one segment). */
export function pathMatcher(path: string): RegExp {
  const pattern = path
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${pattern}/?$`);
}

const paths = (value: string | string[] | undefined): string[] => (value === undefined ? [''] : Array.isArray(value) ? value : [value]);

function join(base: string, path: string): string {
  return `/${[base, path]
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/')}`;
}
