/**
 * The admin listener (SPEC §7): a separate fastify app on its own port, never the traffic listener.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Server } from 'node:http';
import type { Switchyard } from '../server.ts';

/** Builds the admin app for a Switchyard process. */
export function buildAdminApp(switchyard: Switchyard): FastifyInstance<Server> {
  const app = Fastify({ logger: false }) as unknown as FastifyInstance<Server>;
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (!switchyard.ready) return reply.code(503).send({ status: 'draining' });
    return { status: 'ready', version: switchyard.runtime.version };
  });
  return app;
}
