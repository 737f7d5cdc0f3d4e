import { statSync, watch } from 'node:fs';
import type { FSWatcher, Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LRUCache } from 'lru-cache';
import { Reader } from 'maxmind';
import type { CityResponse } from 'maxmind';
import type { GeoReader } from './lookup.ts';

/** An open MaxMind City or Country database. */
export type GeoDatabase = Reader<CityResponse>;

/** Public addresses looked up once after opening, to prove the search tree and data section decode. */
const PROBE_ADDRESSES = ['1.1.1.1', '8.8.8.8', '202.96.128.86', '81.2.69.160'];
const PROBE_ADDRESSES_V6 = ['2001:4860:4860::8888', '2a00:1450:4009::1'];
const IPV6_DATABASE = 6;

/**
 * Decoded records kept by the reader, keyed by their offset in the file. Addresses of one city share a
 * record, so this turns most misses of the resolver's per-address cache into a cheap hit (as
 * `maxmind.open` does, with the same size).
 */
const DECODED_RECORDS_CACHED = 10_000;

/** Quiet period after the last change event before the file is read: writers and symlink swaps come in bursts. */
const DEFAULT_DEBOUNCE_MS = 300;

/**
 * Reads a MaxMind City or Country database (GeoLite2 or GeoIP2) into memory and checks it (SPEC §2.2).
 * A missing, unreadable, corrupt or other kind of database rejects with an Error naming the file and
 * the cause, so startup fails clearly. The whole file is read into a buffer so that a later rewrite of
 * the file in place cannot corrupt the reader in use.
 */
export async function openGeoDatabase(path: string): Promise<GeoDatabase> {
  let buffer: Buffer;
  try {
    buffer = await readFile(path);
  } catch (cause) {
    throw new Error(`geo database ${path}: cannot read it: ${messageOf(cause)}`, { cause });
  }
  let reader: GeoDatabase;
  try {
    reader = new Reader<CityResponse>(buffer, { cache: new LRUCache<number, object>({ max: DECODED_RECORDS_CACHED }) });
    probe(reader);
  } catch (cause) {
    throw new Error(`geo database ${path}: not a valid MaxMind database: ${messageOf(cause)}`, { cause });
  }
  const type = reader.metadata.databaseType;
  if (!type.includes('City') && !type.includes('Country')) {
    throw new Error(`geo database ${path}: ${type} is not a City or Country database`);
  }
  return reader;
}

function probe(reader: GeoDatabase): void {
  const addresses = reader.metadata.ipVersion === IPV6_DATABASE
    ? [...PROBE_ADDRESSES, ...PROBE_ADDRESSES_V6]
    : PROBE_ADDRESSES;
  for (const address of addresses) {
    const record: unknown = reader.get(address);
    if (record !== null && (typeof record !== 'object' || Array.isArray(record))) {
      throw new Error(`record of ${address} is not a map`);
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What a successful reload swapped in, for the caller's log line. */
export interface GeoReloadInfo {
  readonly path: string;
  readonly databaseType: string;
  readonly buildEpoch: Date;
}

/** Options of a `GeoDatabaseWatcher`. */
export interface GeoDatabaseWatcherOptions {
  /** The database file, as configured (`geo.database`); may be a symlink. */
  readonly path: string;
  /** Receives each new reader once it has been checked; a `GeoResolver`. */
  readonly resolver: { swap(reader: GeoReader): void };
  /** Called after a new database was swapped in. */
  readonly onReload?: (info: GeoReloadInfo) => void;
  /** Called when the changed file cannot be used; the previous database stays in service. */
  readonly onError: (error: Error) => void;
  readonly debounceMs?: number;
}

/**
 * Reloads the geo database when its file changes (SPEC §2.2). Watches the file and its directory,
 * because Kubernetes volumes swap a symlink (the file's watcher then goes dead) and tools often
 * rewrite the file in place. Reloads only when device, inode, size or mtime changed, and never swaps in
 * a file that fails `openGeoDatabase`. Does not keep the process alive.
 */
export class GeoDatabaseWatcher {
  readonly #options: GeoDatabaseWatcherOptions;
  readonly #debounceMs: number;
  #signature: string;
  #directoryWatcher: FSWatcher | undefined;
  #fileWatcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #checking = false;
  #changedWhileChecking = false;
  #closed = false;

  constructor(options: GeoDatabaseWatcherOptions) {
    this.#options = options;
    this.#debounceMs = options.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    this.#signature = signatureOf(statOrUndefined(options.path));
    this.#directoryWatcher = this.#watch(dirname(options.path));
    this.#fileWatcher = this.#watch(options.path);
  }

  /** Stops watching; a reload already reading the file is not swapped in. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#directoryWatcher?.close();
    this.#fileWatcher?.close();
    this.#directoryWatcher = this.#fileWatcher = undefined;
  }

  #watch(target: string): FSWatcher | undefined {
    const report = (cause: unknown) => this.#options.onError(
      new Error(`geo database ${this.#options.path}: cannot watch ${target}: ${messageOf(cause)}`, { cause }),
    );
    try {
      const watcher = watch(target, { persistent: false }, () => this.#schedule());
      watcher.on('error', report);
      return watcher;
    } catch (cause) {
      // The file may be missing for a moment during a swap; the directory watcher sees it come back.
      if (target !== this.#options.path) report(cause);
      return undefined;
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#check(), this.#debounceMs);
    this.#timer.unref();
  }

  async #check(): Promise<void> {
    if (this.#checking) {
      this.#changedWhileChecking = true;
      return;
    }
    this.#checking = true;
    try {
      do {
        this.#changedWhileChecking = false;
        await this.#reloadIfChanged();
      } while (this.#changedWhileChecking && !this.#closed);
    } finally {
      this.#checking = false;
    }
    this.#rearmFileWatcher();
  }

  async #reloadIfChanged(): Promise<void> {
    const { path, resolver, onReload, onError } = this.#options;
    const signature = signatureOf(await stat(path).catch(() => undefined));
    // Events also fire for unrelated files in the directory and for writes that changed nothing.
    if (signature === this.#signature) return;
    this.#signature = signature;
    let reader: GeoDatabase;
    try {
      reader = await openGeoDatabase(path);
    } catch (error) {
      if (!this.#closed) onError(error as Error);
      return;
    }
    if (this.#closed) return;
    resolver.swap(reader);
    onReload?.({ path, databaseType: reader.metadata.databaseType, buildEpoch: reader.metadata.buildEpoch });
  }

  /** A file watcher dies with the inode it watched (symlink swap, rename over it); watch the new one. */
  #rearmFileWatcher(): void {
    if (this.#closed) return;
    this.#fileWatcher?.close();
    this.#fileWatcher = this.#watch(this.#options.path);
  }
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** Identity of the file's current content, cheap enough to compare on every event. */
function signatureOf(stats: Stats | undefined): string {
  return stats === undefined ? 'missing' : `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}`;
}
