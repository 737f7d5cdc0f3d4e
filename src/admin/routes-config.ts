/**
 * Runtime configuration through the API: `POST /api/reload` (SPEC §3, §7) and
 * `PUT /api/log/level {"level": "debug"}`, which changes the log level of this instance until the
 * next restart or a reload that changes `log.level`.
 */
import type { FastifyInstance } from 'fastify';
import type { Server } from 'node:http';
import { isLogLevel, logLevels } from '../log/logger.ts';
import type { AdminDeps } from './app.ts';
import { audit, sendAdminError } from './reply.ts';

/** Registers `/api/reload` and `/api/log/level`. */
export function registerConfigRoutes(app: FastifyInstance<Server>, deps: AdminDeps): void {
  app.post('/api/reload', async (request, reply) => {
    const result = await deps.reload();
    reply.header('cache-control', 'no-store');
    if (!result.ok) {
      audit(deps.logger, request, 'reload rejected', { issues: result.issues.length });
      return sendAdminError(request, reply, 'invalid_config', undefined, { issues: result.issues });
    }
    audit(deps.logger, request, 'reload', { version: result.version, changed: result.changed });
    return { version: result.version, changed: result.changed };
  });

  app.put<{ Body: unknown }>('/api/log/level', async (request, reply) => {
    const level = (request.body as { level?: unknown } | undefined)?.level;
    if (!isLogLevel(level)) return sendAdminError(request, reply, 'invalid_request', `level must be one of ${logLevels.join(', ')}`);
    const previous = deps.logger.level;
    // Logged before the change, so lowering the level to warn still leaves a trace of who did it.
    audit(deps.logger, request, 'log level', { level, previous });
    deps.logger.level = level;
    return { level, previous };
  });
}
