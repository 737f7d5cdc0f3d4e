/**
 * The read-only views: the status page at `/` (open: it holds no data, it asks for the token) and
 * `GET /api/status` (token), SPEC §7.
 */
import type { FastifyInstance } from 'fastify';
import type { Server } from 'node:http';
import type { AdminDeps } from './app.ts';
import { buildStatus } from './status.ts';
import { statusPageCsp, statusPageHtml } from './status-page.ts';

/** Registers `/` and `/api/status`. */
export function registerStatusRoutes(app: FastifyInstance<Server>, deps: AdminDeps): void {
  app.get('/', async (_request, reply) => {
    reply.header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', statusPageCsp)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cache-control', 'no-store');
    return statusPageHtml;
  });
  app.get('/api/status', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    return buildStatus(deps, Date.now());
  });
}
