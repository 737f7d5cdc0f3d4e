/**
 * Sticky affinity cookies (SPEC §5): the cluster a client was sent to, and a client id that dials hash
 * instead of the address (so a user stays on one side when their address changes), signed with HMAC
 * so a forged or expired cookie is ignored. The format is `cluster.clientId.expiresAtSeconds.signature`.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { RuntimeRoute } from '../config/runtime.ts';
import type { Config } from '../config/schema.ts';

/** A cookie that verified: the remembered cluster and the client id. */
export interface Affinity {
  readonly cluster: string;
  readonly clientId: string;
}

const signatureBytes = 16;

/**
 * The HMAC key of a route's cookies: `affinity.secret` when set; else derived from the admin token,
 * which every instance of a fleet shares; else from the config itself (then forgeable by anyone who has
 * the config, which only lets a client pick among the clusters the route would use anyway).
 */
export function affinityKey(config: Config, route: RuntimeRoute): Buffer {
  const secret = route.config.affinity?.secret || config.admin.token
    || JSON.stringify([Object.keys(config.clusters), config.routes.map((r) => r.name)]);
  return createHash('sha256').update('switchyard affinity\0').update(secret).digest();
}

/** Reads and verifies the route's cookie from a Cookie header; undefined when absent, forged or expired. */
export function readAffinity(cookieHeader: string | undefined, cookieName: string, routeName: string, key: Buffer,
  nowMs: number): Affinity | undefined {
  const value = cookieValue(cookieHeader, cookieName);
  if (value === undefined) return undefined;
  const parts = value.split('.');
  if (parts.length !== 4) return undefined;
  const [cluster, clientId, expires, signature] = parts;
  const expiresAtSeconds = Number(expires);
  if (!Number.isInteger(expiresAtSeconds) || expiresAtSeconds * 1000 <= nowMs) return undefined;
  const expected = sign(key, routeName, cluster, clientId, expires);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  return { cluster, clientId };
}

/** A Set-Cookie value remembering `cluster` for `clientId`. */
export function affinityCookie(cookieName: string, routeName: string, key: Buffer, affinity: Affinity,
  ttlSeconds: number, nowMs: number): string {
  const expires = String(Math.floor(nowMs / 1000) + ttlSeconds);
  const signature = sign(key, routeName, affinity.cluster, affinity.clientId, expires).toString('base64url');
  const value = `${affinity.cluster}.${affinity.clientId}.${expires}.${signature}`;
  return `${cookieName}=${value}; Max-Age=${ttlSeconds}; Path=/; HttpOnly; SameSite=Lax`;
}

/**
 * The client id of a client without a valid cookie: derived from its address with the route's key, so
 * its first request (hashed before it has a cookie) and the later ones (hashed by the cookie's id)
 * land on the same side of the dial, and the id reveals nothing about the address.
 */
export function newClientIdFor(clientIp: string, key: Buffer): string {
  return createHmac('sha256', key).update(clientIp).digest().subarray(0, 12).toString('base64url');
}

function sign(key: Buffer, route: string, cluster: string, clientId: string, expires: string): Buffer {
  return createHmac('sha256', key).update(`${route}|${cluster}|${clientId}|${expires}`).digest().subarray(0, signatureBytes);
}

/** The value of one cookie in a Cookie header, without allocating for the others. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  let start = 0;
  while (start < header.length) {
    while (header.charCodeAt(start) === 32) start++;
    const end = header.indexOf(';', start);
    const stop = end === -1 ? header.length : end;
    if (header.startsWith(name, start) && header.charCodeAt(start + name.length) === 61 /* = */) {
      return header.slice(start + name.length + 1, stop).trim();
    }
    start = stop + 1;
  }
  return undefined;
}
