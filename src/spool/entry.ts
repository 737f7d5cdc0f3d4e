/**
 * One spooled request as a Redis Stream entry: method, target (path and query), the headers the pinned
 * cluster would have received as raw name/value pairs (case and order kept), the raw body, the arrival
 * time and the request id. Field values are binary-safe; nothing is re-encoded.
 */

/** A request waiting in the spool. */
export interface SpoolEntry {
  /** Stream entry id (`1718000000000-0`): the spool's arrival order. */
  readonly id: string;
  readonly method: string;
  /** Path and query, as the client sent them. */
  readonly url: string;
  /** Flat [name, value, ...] pairs, forwarding headers included. */
  readonly headers: readonly string[];
  readonly body: Buffer;
  /** When the gateway received the request, epoch ms. */
  readonly arrivedAtMs: number;
  readonly requestId: string;
  /** What the entry counts against `spool.maxBytes`. */
  readonly sizeBytes: number;
}

/** A request about to be spooled. */
export type NewSpoolEntry = Omit<SpoolEntry, 'id' | 'sizeBytes'>;

const entryVersion = '1';
/** Per-entry overhead counted against maxBytes besides body and headers (ids, field names, stream node). */
const overheadBytes = 128;

/** The bytes an entry counts against `spool.maxBytes`: a close bound of what Redis holds for it. */
export function entrySizeBytes(entry: NewSpoolEntry): number {
  let headerBytes = 0;
  for (const h of entry.headers) headerBytes += h.length + 3;
  return entry.body.length + headerBytes + entry.url.length + overheadBytes;
}

/** The stream fields of a new entry, as XADD arguments. */
export function entryFields(entry: NewSpoolEntry, sizeBytes: number): (string | Buffer)[] {
  return [
    'v', entryVersion, 'method', entry.method, 'url', entry.url, 'headers', JSON.stringify(entry.headers),
    'at', String(entry.arrivedAtMs), 'rid', entry.requestId, 'size', String(sizeBytes), 'body', entry.body,
  ];
}

/** Reads a stream entry back; undefined when it is not a well-formed spool entry. */
export function parseEntry(id: Buffer | string, fields: readonly Buffer[]): SpoolEntry | undefined {
  const values = new Map<string, Buffer>();
  for (let i = 0; i + 1 < fields.length; i += 2) values.set(fields[i].toString('latin1'), fields[i + 1]);
  const text = (name: string) => values.get(name)?.toString('utf8');
  if (text('v') !== entryVersion) return undefined;
  const headers = parseHeaders(text('headers'));
  const arrivedAtMs = Number(text('at'));
  const sizeBytes = Number(text('size'));
  const method = text('method');
  const url = text('url');
  const body = values.get('body');
  if (headers === undefined || method === undefined || url === undefined || body === undefined
    || !Number.isFinite(arrivedAtMs) || !Number.isFinite(sizeBytes)) return undefined;
  return { id: id.toString(), method, url, headers, body, arrivedAtMs, requestId: text('rid') ?? '', sizeBytes };
}

function parseHeaders(json: string | undefined): string[] | undefined {
  if (json === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(json);
    if (Array.isArray(parsed) && parsed.length % 2 === 0 && parsed.every((h) => typeof h === 'string')) return parsed as string[];
  } catch {
    // fall through: malformed
  }
  return undefined;
}
