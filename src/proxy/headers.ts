/**
 * Header hygiene in both directions (SPEC §2.5, §2.7): hop-by-hop headers dropped, client-sent internal
 * headers removed, forwarding and geo headers added. Works on Node's flat `rawHeaders` arrays so that
 * names keep their case and order (pinned webhooks reach the primary exactly as sent, but for the
 * documented forwarding headers) and nothing is parsed twice.
 */
import type { GeoInfo } from '../geo/types.ts';

/** Hop-by-hop headers (RFC 9110 §7.6.1 plus the legacy ones), lower case. */
const hopByHop = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'proxy-authorization', 'proxy-authenticate',
]);

/** Headers the gateway sets itself upstream; a client's copy never passes. */
const setByGateway = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id', 'expect']);

/** What a client header name is to the forwarding code. */
const keep = 0;
const drop = 1;
const setHere = 2;
interface HeaderName {
  readonly lower: string;
  readonly kind: typeof keep | typeof drop | typeof setHere;
}

/**
 * Client header names by their exact spelling. The same few dozen spellings come on every request,
 * and lower-casing each one, then hashing the new string for three set lookups, was most of this
 * file's cost: a browser's nine headers took 7,514 instructions before, 3,351 after (median of three
 * processes, `npm run bench:loop -- bench/loops/hot-path.ts`). Bounded, since a client chooses the names.
 */
const headerNames = new Map<string, HeaderName>();
const maxHeaderNames = 1000;

function headerName(name: string): HeaderName {
  let known = headerNames.get(name);
  if (known === undefined) {
    const lower = name.toLowerCase();
    known = { lower, kind: hopByHop.has(lower) || isInternal(lower) ? drop : setByGateway.has(lower) ? setHere : keep };
    if (headerNames.size >= maxHeaderNames) headerNames.clear();
    headerNames.set(name, known);
  }
  return known;
}

/** Facts the forwarding headers carry. */
export interface ForwardingFacts {
  /** Socket peer address. */
  readonly peer: string;
  /** Whether the peer is a trusted proxy, whose X-Forwarded-* headers are kept and extended. */
  readonly peerTrusted: boolean;
  readonly requestId: string;
  readonly geo: GeoInfo | undefined;
}

/**
 * Builds the upstream request headers as a flat [name, value, ...] array from the client's raw headers.
 * The Host header is kept: cluster ingresses route by it.
 */
export function upstreamRequestHeaders(rawHeaders: readonly string[], facts: ForwardingFacts): string[] {
  const connectionTokens = connectionHeaderTokens(rawHeaders);
  const out: string[] = [];
  let forwardedFor: string | undefined;
  let forwardedProto: string | undefined;
  let forwardedHost: string | undefined;
  let host: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    const { lower, kind } = headerName(name);
    const value = rawHeaders[i + 1];
    if (lower === 'host') host = value;
    if (kind === drop || (connectionTokens !== undefined && connectionTokens.has(lower))) continue;
    if (kind === setHere) {
      if (facts.peerTrusted) {
        if (lower === 'x-forwarded-for') forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
        else if (lower === 'x-forwarded-proto') forwardedProto ??= value;
        else if (lower === 'x-forwarded-host') forwardedHost ??= value;
      }
      continue;
    }
    out.push(name, value);
  }
  out.push('x-forwarded-for', forwardedFor === undefined ? facts.peer : `${forwardedFor}, ${facts.peer}`);
  out.push('x-forwarded-proto', forwardedProto ?? 'http');
  if (forwardedHost !== undefined || host !== undefined) out.push('x-forwarded-host', (forwardedHost ?? host)!);
  out.push('x-request-id', facts.requestId);
  const geo = facts.geo;
  if (geo !== undefined) {
    if (geo.country !== undefined) out.push('x-geo-country', geo.country);
    if (geo.subdivision !== undefined) out.push('x-geo-subdivision', geo.subdivision);
    if (geo.continent !== undefined) out.push('x-geo-continent', geo.continent);
  }
  return out;
}

/**
 * Builds the client response headers from undici's parsed upstream headers, as a flat array for
 * `res.writeHead`, with the gateway's own headers appended.
 */
export function downstreamResponseHeaders(upstream: Record<string, string | string[] | undefined>,
  cluster: string, route: string, requestId: string): string[] {
  const connection = upstream.connection;
  // Almost every upstream says just keep-alive or close, which name no other header.
  const tokens = connection === undefined || connection === 'keep-alive' || connection === 'close' ? undefined
    : tokenSet(Array.isArray(connection) ? connection.join(',') : connection);
  const out: string[] = [];
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined || hopByHop.has(name) || name.startsWith('x-switchyard-') || name === 'x-request-id') continue;
    if (tokens !== undefined && tokens.has(name)) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, value);
  }
  out.push('x-switchyard-cluster', cluster, 'x-switchyard-route', route, 'x-request-id', requestId);
  return out;
}

function isInternal(lowerName: string): boolean {
  return lowerName.charCodeAt(0) === 120 /* x */ && (lowerName.startsWith('x-switchyard-') || lowerName.startsWith('x-geo-'));
}

function connectionHeaderTokens(rawHeaders: readonly string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i].length === 10 && rawHeaders[i].toLowerCase() === 'connection') {
      // Nearly every client says just keep-alive or close, which name no other header.
      if (namesNoHeader(rawHeaders[i + 1])) continue;
      tokens ??= new Set();
      for (const t of tokenSet(rawHeaders[i + 1])) tokens.add(t);
    }
  }
  return tokens;
}

function namesNoHeader(value: string): boolean {
  return (value.length === 10 || value.length === 5) && (value === 'keep-alive' || value === 'close'
    || value.toLowerCase() === 'keep-alive' || value.toLowerCase() === 'close');
}

function tokenSet(value: string): Set<string> {
  const set = new Set<string>();
  for (const part of value.split(',')) {
    const token = part.trim().toLowerCase();
    if (token !== '' && token !== 'close' && token !== 'keep-alive') set.add(token);
  }
  return set;
}

/** A client-sent X-Request-Id is kept only when it is short and plain: it ends up in logs and headers. */
export function isSaneRequestId(value: string | string[] | undefined): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 128) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 95 || c === 46 || c === 58;
    if (!ok) return false;
  }
  return true;
}
