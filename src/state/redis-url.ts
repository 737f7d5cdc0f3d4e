/**
 * Redis connection URLs (SPEC §6: standalone, Sentinel and Cluster through ioredis):
 *   redis://[user:password@]host[:port][/db]                 standalone (rediss:// for TLS)
 *   redis+sentinel://[user:password@]h1[:26379],h2/master[/db][?sentinelPassword=&sentinelUsername=&role=]
 *   redis+cluster://[user:password@]h1[:6379],h2[:6379]     (rediss+… for TLS)
 * Errors never quote the URL: it may hold a password.
 */
import type { ClusterOptions, RedisOptions } from 'ioredis';

/** A host and port of a sentinel or cluster seed node. */
export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/** Where and how to connect, before connection tuning is added. */
export type RedisTarget =
  | { readonly mode: 'standalone'; readonly options: RedisOptions }
  | { readonly mode: 'sentinel'; readonly options: RedisOptions }
  | { readonly mode: 'cluster'; readonly nodes: readonly RedisNode[]; readonly options: ClusterOptions };

const defaultRedisPort = 6379;
const defaultSentinelPort = 26379;
const multiHost = /^(rediss?)\+(sentinel|cluster):\/\/(?:([^@/?#]*)@)?([^/?#]+)(\/[^?#]*)?(?:\?([^#]*))?$/;
const sentinelParams = new Set(['sentinelPassword', 'sentinelUsername', 'role']);

/** Parses a `state.redis` URL into ioredis options; throws a credential-free Error when invalid. */
export function parseRedisUrl(url: string): RedisTarget {
  if (/^rediss?:\/\//.test(url)) return { mode: 'standalone', options: standalone(url) };
  const match = multiHost.exec(url);
  if (match === null) throw new Error('state.redis must be a redis://, rediss://, redis+sentinel:// or redis+cluster:// URL');
  const [, scheme, mode, userinfo, hosts, path, query] = match;
  const tls = scheme === 'rediss' ? { tls: {} } : {};
  const credentials = parseUserinfo(userinfo);
  const params = new URLSearchParams(query ?? '');
  if (mode === 'cluster') {
    if (path !== undefined && path !== '/') throw new Error('state.redis: a cluster URL takes no path (Redis Cluster has only db 0)');
    rejectParams(params, new Set());
    const nodes = parseHosts(hosts, defaultRedisPort);
    return { mode: 'cluster', nodes, options: { redisOptions: { ...credentials, ...tls } } };
  }
  rejectParams(params, sentinelParams);
  const [name, db] = parseSentinelPath(path);
  const role = params.get('role') ?? 'master';
  if (role !== 'master' && role !== 'slave') throw new Error('state.redis: role must be master or slave');
  return {
    mode: 'sentinel',
    options: {
      sentinels: parseHosts(hosts, defaultSentinelPort).map((n) => ({ ...n })),
      name, db, role, ...credentials, ...tls,
      ...(scheme === 'rediss' ? { enableTLSForSentinelMode: true } : {}),
      ...optional('sentinelPassword', params.get('sentinelPassword')),
      ...optional('sentinelUsername', params.get('sentinelUsername')),
    },
  };
}

function standalone(url: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('state.redis is not a valid URL');
  }
  if (parsed.search !== '') throw new Error('state.redis: a standalone URL takes no query parameters');
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new Error('state.redis: missing host');
  return {
    host,
    port: parsed.port === '' ? defaultRedisPort : Number(parsed.port),
    db: parseDb(parsed.pathname.replace(/^\//, '')),
    ...parseUserinfo(parsed.username === '' && parsed.password === '' ? undefined : `${parsed.username}:${parsed.password}`),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

function parseHosts(list: string, defaultPort: number): RedisNode[] {
  return list.split(',').map((entry) => {
    const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(entry.trim());
    if (m === null) throw new Error('state.redis: every host must be host[:port] or [ipv6][:port]');
    const port = m[3] === undefined ? defaultPort : Number(m[3]);
    if (port < 1 || port > 65535) throw new Error('state.redis: port out of range');
    return { host: m[1] ?? m[2], port };
  });
}

function parseSentinelPath(path: string | undefined): [string, number] {
  const parts = (path ?? '').split('/').filter((p) => p !== '');
  if (parts.length === 0 || parts.length > 2) throw new Error('state.redis: a sentinel URL needs /masterName[/db]');
  return [decodeURIComponent(parts[0]), parseDb(parts[1] ?? '')];
}

function parseDb(text: string): number {
  if (text === '') return 0;
  if (!/^\d{1,2}$/.test(text)) throw new Error('state.redis: the database must be a number');
  return Number(text);
}

function parseUserinfo(userinfo: string | undefined): { username?: string; password?: string } {
  if (userinfo === undefined || userinfo === '') return {};
  const colon = userinfo.indexOf(':');
  const user = decodeURIComponent(colon === -1 ? userinfo : userinfo.slice(0, colon));
  const password = colon === -1 ? '' : decodeURIComponent(userinfo.slice(colon + 1));
  return { ...optional('username', user || null), ...optional('password', password || null) };
}

function rejectParams(params: URLSearchParams, allowed: ReadonlySet<string>): void {
  for (const key of params.keys()) {
    if (!allowed.has(key)) throw new Error(`state.redis: unknown URL parameter ${JSON.stringify(key)}`);
  }
}

function optional<K extends string>(key: K, value: string | null): { [P in K]?: string } {
  return (value === null ? {} : { [key]: value }) as { [P in K]?: string };
}
