/**
 * Fleet-wide controls (SPEC §5, §7): drain a cluster, override or clear a route's standby dial. They
 * go through the fleet state, so every instance sees them (through Redis when configured); a store
 * that cannot take the write answers 503 `state_store_unavailable`, never a silent local-only change.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Server } from 'node:http';
import { effectiveDial } from '../decision/dial.ts';
import type { AdminDeps } from './app.ts';
import { audit, sendAdminError } from './reply.ts';

/** Dial overrides are meant for an event, not forever: a month at most. */
const maxDialTtlSeconds = 30 * 24 * 3600;

interface NameParams {
  name: string;
}

/** Registers the drain and dial endpoints. */
export function registerFleetRoutes(app: FastifyInstance<Server>, deps: AdminDeps): void {
  app.put<{ Params: NameParams; Body: unknown }>('/api/clusters/:name/drain', async (request, reply) => {
    const { name } = request.params;
    if (!deps.runtime.clustersByName.has(name)) return sendAdminError(request, reply, 'unknown_cluster');
    const drained = (request.body as { drained?: unknown } | undefined)?.drained;
    if (typeof drained !== 'boolean' || !hasOnlyKeys(request.body, ['drained'])) {
      return sendAdminError(request, reply, 'invalid_request', 'expected {"drained": true|false}');
    }
    return storeWrite(request, reply, deps, () => deps.fleet.setDrain(name, drained), () => {
      audit(deps.logger, request, drained ? 'drain' : 'undrain', { cluster: name });
      return { cluster: name, drained };
    });
  });

  app.put<{ Params: NameParams; Body: unknown }>('/api/routes/:name/dial', async (request, reply) => {
    const route = deps.runtime.routesByName.get(request.params.name);
    if (route === undefined) return sendAdminError(request, reply, 'unknown_route');
    if (route.standby === undefined) return sendAdminError(request, reply, 'invalid_request', 'this route has no standby cluster to dial');
    const body = request.body as { percent?: unknown; ttlSeconds?: unknown } | undefined;
    const percent = body?.percent;
    const ttlSeconds = body?.ttlSeconds;
    if (typeof percent !== 'number' || !(percent >= 0 && percent <= 100)
      || typeof ttlSeconds !== 'number' || !Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > maxDialTtlSeconds
      || !hasOnlyKeys(body, ['percent', 'ttlSeconds'])) {
      return sendAdminError(request, reply, 'invalid_request',
        `expected {"percent": 0-100, "ttlSeconds": 1-${maxDialTtlSeconds}}`);
    }
    return storeWrite(request, reply, deps, () => deps.fleet.setDialOverride(route.name, percent, ttlSeconds), () => {
      audit(deps.logger, request, 'dial override', { route: route.name, percent, ttlSeconds });
      return { route: route.name, dial: dialOf(deps, route.name) };
    });
  });

  app.delete<{ Params: NameParams }>('/api/routes/:name/dial', async (request, reply) => {
    const route = deps.runtime.routesByName.get(request.params.name);
    if (route === undefined) return sendAdminError(request, reply, 'unknown_route');
    return storeWrite(request, reply, deps, () => deps.fleet.clearDialOverride(route.name), () => {
      audit(deps.logger, request, 'dial override cleared', { route: route.name });
      return { route: route.name, dial: dialOf(deps, route.name) };
    });
  });
}

/** Runs a fleet-state write; a store failure is logged and answered 503. */
async function storeWrite(request: FastifyRequest, reply: FastifyReply, deps: AdminDeps, write: () => Promise<void>,
  done: () => object): Promise<unknown> {
  try {
    await write();
  } catch (err) {
    audit(deps.logger, request, 'rejected: state store unavailable', { path: request.routeOptions.url, error: (err as Error).message });
    return sendAdminError(request, reply, 'state_store_unavailable');
  }
  reply.header('cache-control', 'no-store');
  return done();
}

function dialOf(deps: AdminDeps, routeName: string): { percent: number; source: string; expiresAt?: string } {
  const runtime = deps.runtime;
  const dial = effectiveDial(runtime.routesByName.get(routeName)!, runtime, deps.fleet.snapshot(), Date.now());
  return { percent: dial.percent, source: dial.source, ...(dial.expiresAtMs === undefined ? {} : { expiresAt: new Date(dial.expiresAtMs).toISOString() }) };
}

/** Unknown keys are refused, as in the config: a typo (`"drain": true`) must not pass silently. */
function hasOnlyKeys(body: unknown, keys: readonly string[]): boolean {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).every((k) => keys.includes(k));
}
