/**
 * `GET /api/explain?ip=&method=&path=&host=` (SPEC §7): the decision the gateway would take now for such
 * a request, from the same `decide()` with the live config, fleet snapshot and breakers, rendered by
 * the same `explainDecision` as the CLI.
 */
import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Server } from 'node:http';
import { decide } from '../decision/decide.ts';
import { explainDecision } from '../decision/explain.ts';
import type { AdminDeps } from './app.ts';
import { sendAdminError } from './reply.ts';

interface ExplainQuery {
  ip?: string;
  method?: string;
  path?: string;
  host?: string;
}

/** Registers `/api/explain`. */
export function registerExplainRoute(app: FastifyInstance<Server>, deps: AdminDeps): void {
  app.get<{ Querystring: ExplainQuery }>('/api/explain', async (request, reply) => {
    const { ip, method = 'GET', path = '/', host } = request.query;
    if (typeof ip !== 'string' || isIP(ip) === 0) return sendAdminError(request, reply, 'invalid_request', 'ip must be an IPv4 or IPv6 address');
    if (typeof path !== 'string' || !path.startsWith('/')) return sendAdminError(request, reply, 'invalid_request', 'path must start with /');
    if (typeof method !== 'string' || !/^[A-Za-z]+$/.test(method)) return sendAdminError(request, reply, 'invalid_request', 'method must be an HTTP method');
    const hostName = typeof host === 'string' && host !== '' ? host : undefined;
    const geo = deps.geo.lookup(ip);
    const decision = decide({
      method: method.toUpperCase(), host: hostName, path, headers: hostName === undefined ? {} : { host: hostName },
      clientIp: ip, geo, clientKey: ip,
    }, { runtime: deps.runtime, snapshot: deps.fleet.snapshot(), breakers: deps.breakers, nowMs: Date.now(), random: Math.random });
    reply.header('cache-control', 'no-store');
    return explainDecision(decision, ip, geo);
  });
}
