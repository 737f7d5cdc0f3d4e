/**
 * The error catalogue (SPEC §2.7): every error the gateway answers by itself, with its status, where it
 * comes from and whether another attempt elsewhere may help. One place renders the JSON body.
 */

/** Where a failure originated, in Pingora's terms. */
export type ErrorSource = 'downstream' | 'upstream' | 'internal';

export interface ErrorSpec {
  readonly status: number;
  readonly source: ErrorSource;
  readonly message: string;
}

export const errorCatalogue = {
  no_route: { status: 404, source: 'downstream', message: 'no route matches this request' },
  no_healthy_cluster: { status: 503, source: 'upstream', message: 'no cluster could take this request' },
  pinned_cluster_unavailable: { status: 503, source: 'upstream', message: 'the cluster this route is pinned to is unavailable' },
  upstream_timeout: { status: 504, source: 'upstream', message: 'the upstream did not answer in time' },
  upstream_error: { status: 502, source: 'upstream', message: 'the upstream failed after the request was sent' },
  payload_too_large: { status: 413, source: 'downstream', message: 'the request body is larger than this route accepts' },
  bad_request: { status: 400, source: 'downstream', message: 'the request is malformed' },
  method_not_allowed: { status: 405, source: 'downstream', message: 'this method is not served' },
  request_timeout: { status: 408, source: 'downstream', message: 'the client did not send the request in time' },
  header_too_large: { status: 431, source: 'downstream', message: 'request headers are too large' },
  overloaded: { status: 503, source: 'internal', message: 'the gateway is shedding load' },
  spool_full: { status: 503, source: 'internal', message: 'the webhook spool is full' },
  internal_error: { status: 500, source: 'internal', message: 'the gateway failed' },
  // admin API
  unauthorized: { status: 401, source: 'downstream', message: 'a valid bearer token is required' },
  forbidden: { status: 403, source: 'downstream', message: 'no admin token is configured; the API is disabled' },
  unknown_cluster: { status: 404, source: 'downstream', message: 'no cluster has this name' },
  unknown_route: { status: 404, source: 'downstream', message: 'no route has this name' },
  invalid_config: { status: 400, source: 'downstream', message: 'the configuration is invalid' },
  invalid_request: { status: 400, source: 'downstream', message: 'the request body is invalid' },
  too_many_attempts: { status: 429, source: 'downstream', message: 'too many failed authentication attempts; retry later' },
  state_store_unavailable: { status: 503, source: 'internal', message: 'the state store is not reachable' },
  workers_unavailable: { status: 503, source: 'internal', message: 'no worker process could answer' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errorCatalogue;

/** The JSON body of an error answered by the gateway itself. */
export function renderErrorBody(code: ErrorCode, requestId: string, message?: string): string {
  return JSON.stringify({ error: code, message: message ?? errorCatalogue[code].message, requestId });
}

/** How an upstream attempt failed, which decides retry and the client's answer (SPEC §2.6). */
export type UpstreamFailureKind =
  | 'connect' // nothing written: refused, reset before write, DNS, connect timeout
  | 'timeout' // headers or total timeout after the request was written
  | 'error'; // socket error after the request was written

/** Maps an undici or socket error to the kind of upstream failure it is. */
export function classifyUpstreamError(err: unknown): UpstreamFailureKind {
  const code = (err as { code?: string } | null)?.code;
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'UND_ERR_CONNECT_TIMEOUT':
    // a pool closed by a reload that removed its endpoint: nothing was sent
    case 'UND_ERR_CLOSED':
    case 'UND_ERR_DESTROYED':
      return 'connect';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'UND_ERR_ABORTED':
    case 'ABORT_ERR':
    case 'ETIMEDOUT':
      return 'timeout';
    default:
      return 'error';
  }
}

/** A configuration problem with its position: `file:line:col path: message`. */
export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  path: string;
  message: string;
}

/** Formats an issue the way SREs read it in terminals and logs. */
export function formatConfigIssue(issue: ConfigIssue): string {
  const where = issue.path === '' ? '' : ` ${issue.path}`;
  return `${issue.file}:${issue.line}:${issue.column}${where}: ${issue.message}`;
}

/** Thrown when a config file cannot be accepted; carries every issue found, not just the first. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map(formatConfigIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
