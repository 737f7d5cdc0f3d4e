/**
 * Relaying an authenticated admin request to workers and answering with what they said. Reads go to
 * one worker; changes go to every worker (each holds its own drains and dials with the in-memory
 * store; with Redis the repeated write is harmless) and are answered with the first worker's answer
 * when every worker answered with the same status, else 500 naming each worker's answer.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../log/logger.ts';
import { sendAdminError } from '../admin/reply.ts';
import type { WorkerChannel } from './channel.ts';
import type { RelayedRequest, RelayedResponse } from './protocol.ts';

/** How long a worker gets to answer a relayed admin request. */
export const relayTimeoutMs = 10_000;

/** A worker's answer, or why there is none. */
export type WorkerAnswer = { readonly slot: number; readonly response: RelayedResponse } | { readonly slot: number; readonly error: string };

/** The request as a worker's admin app will see it: method, URL with query, auth and body, client address. */
export function relayedRequestOf(request: FastifyRequest): RelayedRequest {
  const headers: Record<string, string> = {};
  for (const name of ['authorization', 'content-type']) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const body = request.body;
  return {
    method: request.method, url: request.url, headers, remoteAddress: request.ip,
    ...(body === undefined || body === null ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  };
}

/** Asks each worker, all at once; never rejects. */
export function askWorkers(workers: readonly WorkerChannel[], request: RelayedRequest): Promise<WorkerAnswer[]> {
  return Promise.all(workers.map(async (worker) => {
    try {
      return { slot: worker.slot, response: await worker.request('switchyard:admin-request', { request }, relayTimeoutMs) };
    } catch (err) {
      return { slot: worker.slot, error: (err as Error).message };
    }
  }));
}

/** Answers with a worker's response as it is (its status, content type, cache and auth headers, body). */
export function sendRelayed(reply: FastifyReply, response: RelayedResponse): FastifyReply {
  return reply.code(response.status).headers(response.headers).send(response.body);
}

/**
 * The answer to a change relayed to every worker: the first one's when all answered alike, 500 with
 * each worker's answer (logged) when they did not, 503 when no worker serves.
 */
export function sendAgreed(request: FastifyRequest, reply: FastifyReply, answers: readonly WorkerAnswer[], logger: Logger): FastifyReply {
  const first = answers[0];
  if (first === undefined) return sendAdminError(request, reply, 'workers_unavailable');
  const statuses = new Set(answers.map((answer) => ('response' in answer ? answer.response.status : 0)));
  if ('response' in first && statuses.size === 1) return sendRelayed(reply, first.response);
  const workers = answers.map((answer) => ('response' in answer
    ? { worker: answer.slot, status: answer.response.status, body: answer.response.body }
    : { worker: answer.slot, error: answer.error }));
  logger.error({ path: request.routeOptions.url, workers }, 'admin: workers answered a change differently');
  return sendAdminError(request, reply, 'internal_error', 'the workers did not all take this change alike; see workers', { workers });
}
