/**
 * How the admin API answers errors and records changes: the catalogue's JSON shape
 * `{error, message, requestId}` (SPEC §2.7), and one audit line per mutating call naming who (client
 * address, token fingerprint; never the token) and what.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorCatalogue, type ErrorCode } from '../errors.ts';
import type { Logger } from '../log/logger.ts';

/** Sends a catalogue error; `extra` fields (config issues) are added to the body. */
export function sendAdminError(request: FastifyRequest, reply: FastifyReply, code: ErrorCode,
  message?: string, extra: Record<string, unknown> = {}): FastifyReply {
  return reply.code(errorCatalogue[code].status).header('cache-control', 'no-store').send({
    error: code, message: message ?? errorCatalogue[code].message, requestId: request.id, ...extra,
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Fingerprint of the token that authenticated the request ('' when none did). */
    adminFingerprint: string;
  }
}

/** Who made an admin call: client address and token fingerprint. */
export function actorOf(request: FastifyRequest): { client: string; fingerprint: string } {
  return { client: request.ip, fingerprint: request.adminFingerprint };
}

/** Logs a mutating admin call: who, what, and its outcome. */
export function audit(logger: Logger, request: FastifyRequest, action: string, details: Record<string, unknown>): void {
  logger.info({ audit: { action, ...actorOf(request), requestId: request.id, ...details } }, `admin: ${action}`);
}
