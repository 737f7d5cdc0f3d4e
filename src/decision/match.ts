/**
 * Route matching (SPEC §2.3): compiled once per config load into a closure-free table, so the request
 * path does a prefix check, a set lookup and nothing else.
 */
import type { RouteConfig } from '../config/schema.ts';

/** What matching needs from a request; headers are Node's lower-cased header object. */
export interface MatchInput {
  readonly method: string;
  readonly host: string | undefined;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** A precompiled `match` block. */
export interface RouteMatcher {
  readonly pathPrefix: string;
  readonly methods: ReadonlySet<string> | undefined;
  readonly exactHosts: ReadonlySet<string> | undefined;
  /** `*.example.com` patterns stored as `.example.com`. */
  readonly hostSuffixes: readonly string[];
  readonly headers: readonly (readonly [string, string])[];
}

/** Compiles a route's `match` block. */
export function compileRouteMatcher(match: RouteConfig['match']): RouteMatcher {
  const hosts = match.hosts ?? [];
  const exact = hosts.filter((h) => !h.startsWith('*.')).map((h) => h.toLowerCase());
  return Object.freeze({
    pathPrefix: match.pathPrefix,
    methods: match.methods === undefined ? undefined : new Set(match.methods),
    exactHosts: match.hosts === undefined ? undefined : new Set(exact),
    hostSuffixes: hosts.filter((h) => h.startsWith('*.')).map((h) => h.slice(1).toLowerCase()),
    headers: Object.entries(match.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v] as const),
  });
}

/** Whether a request fits a compiled matcher. */
export function matches(matcher: RouteMatcher, input: MatchInput): boolean {
  if (!input.path.startsWith(matcher.pathPrefix)) return false;
  if (matcher.methods !== undefined && !matcher.methods.has(input.method)) return false;
  if (matcher.exactHosts !== undefined && !hostMatches(matcher, input.host)) return false;
  for (let i = 0; i < matcher.headers.length; i++) {
    const [name, value] = matcher.headers[i];
    if (input.headers[name] !== value) return false;
  }
  return true;
}

function hostMatches(matcher: RouteMatcher, rawHost: string | undefined): boolean {
  if (rawHost === undefined) return false;
  const host = stripPort(rawHost).toLowerCase();
  if (matcher.exactHosts!.has(host)) return true;
  for (const suffix of matcher.hostSuffixes) if (host.endsWith(suffix)) return true;
  return false;
}

function stripPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

/** The first route whose matcher fits, in config order. */
export function matchRoute<R extends { readonly matcher: RouteMatcher }>(routes: readonly R[], input: MatchInput): R | undefined {
  for (let i = 0; i < routes.length; i++) if (matches(routes[i].matcher, input)) return routes[i];
  return undefined;
}
