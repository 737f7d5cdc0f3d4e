/**
 * What every admin listener shares (SPEC §7), whoever answers behind it: JSON bodies, the bearer-token
 * check on everything but the open routes, the catalogue's error answers and `/healthz`. A single
 * process adds its routes (app.ts); the supervisor of several workers adds relays to them
 * (src/workers/admin-relay.ts), so both authenticate and fail alike.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from '../log/logger.ts';
import { AdminAuth } from './auth.ts';
import { sendAdminError } from './reply.ts';

/** What the shell reads: the token live (a reload can rotate it) and where to log. */
export interface AdminShellDeps {
  readonly logger: Logger;
  /** `admin.token` of the running config; '' disables /api/ (403). */
  adminToken(): string;
}

/** A route as registered: method and URL pattern. */
export interface AdminRoute {
  readonly method: string;
  readonly url: string;
}

/** Routes served without the token; every other route needs it (secure by default). */
const openRoutes: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics', '/']);

/**
 * By the matched route, not the raw URL, because the router decodes `%61pi` into `api`; unmatched
 * `/api/` paths still ask for the token, so probing them reveals nothing.
 */
function needsToken(route: string | undefined, url: string): boolean {
  return (route !== undefined && !openRoutes.has(route)) || url.startsWith('/api/');
}

/** Admin request bodies are small JSON objects. */
const bodyLimitBytes = 16 * 1024;

const registeredRoutes = new WeakMap<FastifyInstance<Server>, AdminRoute[]>();

/** The routes registered on an app made by `createAdminShell`, in registration order. */
export function adminRoutesOf(app: FastifyInstance<Server>): readonly AdminRoute[] {
  return registeredRoutes.get(app) ?? [];
}

/** An admin app with auth, errors and `/healthz`; the caller adds the other routes and listens. */
export function createAdminShell(deps: AdminShellDeps, auth = new AdminAuth()): FastifyInstance<Server> {
  const app = Fastify({
    logger: false,
    bodyLimit: bodyLimitBytes,
    genReqId: () => randomUUID(),
  }) as unknown as FastifyInstance<Server>;
  const routes: AdminRoute[] = [];
  registeredRoutes.set(app, routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
  app.decorateRequest('adminFingerprint', '');
  // `curl -X DELETE -H 'content-type: application/json'` sends no body: that is no body, not an error.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '') return done(null, undefined);
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(Object.assign(new Error('the body is not valid JSON'), { statusCode: 400 }), undefined);
    }
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!needsToken(request.routeOptions.url, request.url)) return;
    const verdict = auth.check(request.ip, request.headers.authorization, deps.adminToken());
    if (verdict.ok) {
      request.adminFingerprint = verdict.fingerprint;
      return;
    }
    if (verdict.code === 'unauthorized') reply.header('www-authenticate', 'Bearer realm="switchyard-admin"');
    if (verdict.code === 'too_many_attempts') reply.header('retry-after', String(verdict.retryAfterSeconds));
    if (verdict.code !== 'forbidden') deps.logger.warn({ client: request.ip, method: request.method, path: request.routeOptions.url ?? 'unknown', verdict: verdict.code }, 'admin: authentication failed');
    return sendAdminError(request, reply, verdict.code);
  });
  app.setNotFoundHandler((request, reply) => sendAdminError(request, reply, 'no_route', 'no admin endpoint matches this request'));
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.statusCode === 413) return sendAdminError(request, reply, 'payload_too_large');
    if (error.statusCode !== undefined && error.statusCode < 500) return sendAdminError(request, reply, 'invalid_request', error.message);
    deps.logger.error({ err: { message: error.message, stack: error.stack }, path: request.routeOptions.url }, 'admin: request failed');
    return sendAdminError(request, reply, 'internal_error');
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  return app;
}
