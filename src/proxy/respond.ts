/**
 * Answers the gateway gives by itself (SPEC §2.7): JSON `{error, message, requestId}` with the
 * catalogue's status, plus the route and cluster headers so every response says who answered.
 */
import type { ServerResponse } from 'node:http';
import { errorCatalogue, renderErrorBody, type ErrorCode } from '../errors.ts';

export interface ErrorAnswer {
  readonly code: ErrorCode;
  readonly requestId: string;
  readonly route?: string;
  readonly retryAfterSeconds?: number;
  /** Close the client connection afterwards (the request body was not read to its end). */
  readonly close?: boolean;
  readonly message?: string;
}

/** Where the gateway keeps a request's id on its response, for errors raised outside the request's own code. */
const requestIdKey = Symbol('switchyard.requestId');

type TaggedResponse = ServerResponse & { [requestIdKey]?: string };

/** Remembers `requestId` as the id of the request `res` answers. */
export function tagResponse(res: ServerResponse, requestId: string): void {
  (res as TaggedResponse)[requestIdKey] = requestId;
}

/** The id the gateway gave the request `res` answers; `-` for one refused before the gateway saw it. */
export function requestIdOf(res: ServerResponse): string {
  return (res as TaggedResponse)[requestIdKey] ?? '-';
}

/** Writes a gateway error; does nothing if the response already started. */
export function sendError(res: ServerResponse, answer: ErrorAnswer): void {
  if (res.headersSent || res.destroyed) return;
  const body = renderErrorBody(answer.code, answer.requestId, answer.message);
  const headers: string[] = [
    'content-type', 'application/json; charset=utf-8',
    'content-length', String(Buffer.byteLength(body)),
    'cache-control', 'no-store',
    'x-request-id', answer.requestId,
    'x-switchyard-cluster', 'none',
  ];
  if (answer.route !== undefined) headers.push('x-switchyard-route', answer.route);
  if (answer.retryAfterSeconds !== undefined) headers.push('retry-after', String(answer.retryAfterSeconds));
  if (answer.close === true) headers.push('connection', 'close');
  res.writeHead(errorCatalogue[answer.code].status, headers);
  res.end(body);
}

/**
 * The status a request ends with as logs and metrics see it: what the client was sent, or 499 (as
 * NGINX logs it) when the client went away before anything was.
 */
export function statusSent(res: ServerResponse): number {
  return res.headersSent ? res.statusCode : 499;
}
