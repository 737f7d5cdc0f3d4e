import { BlockList, isIP } from 'node:net';
import { LRUCache } from 'lru-cache';
import type { CityResponse } from 'maxmind';
import type { GeoInfo, GeoLookup } from './types.ts';

/** What the resolver needs of a MaxMind reader; `maxmind`'s `Reader` fits, and so does a test double. */
export interface GeoReader {
  get(ip: string): CityResponse | null;
}

/** Lookup counters, read by the metrics module at scrape time (`switchyard_geo_lookups_total{result}`). */
export interface GeoStats {
  /** Answered from the cache, with or without geo. */
  hit: number;
  /** Looked up in the database and found. */
  miss: number;
  /** No geo: private, reserved or invalid address, or not in the database. */
  none: number;
  /** The reader threw (corrupt record). */
  error: number;
}

/** Cached in place of "no geo", because an LRU cache cannot hold `undefined`. */
const NO_GEO: GeoInfo = Object.freeze({});

/**
 * Addresses that have no location (SPEC §2.2 "private or unknown"): answered without touching the
 * database, which has no record for them anyway.
 */
const nonPublic = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network", including unspecified
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 3], // multicast, reserved and broadcast
] as const) nonPublic.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 127], // unspecified and loopback
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
  ['2001:db8::', 32], // documentation
] as const) nonPublic.addSubnet(network, prefix, 'ipv6');

/**
 * Resolves client addresses to `GeoInfo` through a MaxMind City or Country database (SPEC §2.2),
 * with a bounded LRU cache in front. The reader can be swapped at runtime when the file changes.
 */
export class GeoResolver implements GeoLookup {
  /** Counters since start; plain numbers so the hot path pays one increment. */
  readonly stats: GeoStats = { hit: 0, miss: 0, none: 0, error: 0 };
  #reader: GeoReader;
  readonly #cache: LRUCache<string, GeoInfo> | undefined;

  /** `cacheSize`: entries kept in the LRU cache (config `geo.cacheSize`); 0 disables the cache. */
  constructor(reader: GeoReader, cacheSize: number) {
    this.#reader = reader;
    this.#cache = cacheSize > 0 ? new LRUCache({ max: cacheSize }) : undefined;
  }

  /** The location of `ip`, or undefined for private, reserved, invalid or unknown addresses. Never throws. */
  lookup(ip: string): GeoInfo | undefined {
    const cached = this.#cache?.get(ip);
    if (cached !== undefined) {
      this.stats.hit++;
      return cached === NO_GEO ? undefined : cached;
    }
    const family = isIP(ip);
    // Invalid strings are not cached: they could be anything, and a client address never is one.
    // A zone (`fe80::1%eth0`) only appears on link-local addresses, which have no location.
    if (family === 0 || ip.includes('%')) {
      this.stats.none++;
      return undefined;
    }
    const info = nonPublic.check(ip, family === 4 ? 'ipv4' : 'ipv6') ? NO_GEO : this.#read(ip);
    if (info === undefined) return undefined;
    this.#cache?.set(ip, info);
    if (info === NO_GEO) {
      this.stats.none++;
      return undefined;
    }
    this.stats.miss++;
    return info;
  }

  /** Replaces the database (after the new file was checked) and forgets what the old one said. */
  swap(reader: GeoReader): void {
    this.#reader = reader;
    this.#cache?.clear();
  }

  /** Entries currently cached. */
  get cacheSize(): number {
    return this.#cache?.size ?? 0;
  }

  /** The database's answer, NO_GEO when it has none, undefined when it threw (not cached: a swap may fix it). */
  #read(ip: string): GeoInfo | undefined {
    try {
      const record = this.#reader.get(ip);
      return record === null ? NO_GEO : toGeoInfo(record);
    } catch {
      this.stats.error++;
      return undefined;
    }
  }
}

/** Maps a MaxMind City or Country record to `GeoInfo`, leaving out what the record does not know. */
export function toGeoInfo(record: CityResponse): GeoInfo {
  // An anycast or satellite network may only carry the country it is registered in.
  const country = record.country?.iso_code ?? record.registered_country?.iso_code;
  const continent = record.continent?.code;
  const region = record.subdivisions?.[0]?.iso_code;
  const location = record.location;
  const info: { -readonly [K in keyof GeoInfo]: GeoInfo[K] } = {};
  if (continent !== undefined) info.continent = continent;
  if (country !== undefined) info.country = country;
  if (country !== undefined && region !== undefined) info.subdivision = `${country}-${region}`;
  if (typeof location?.latitude === 'number' && typeof location.longitude === 'number') {
    info.latitude = location.latitude;
    info.longitude = location.longitude;
  }
  const empty = info.continent === undefined && info.country === undefined && info.latitude === undefined;
  return empty ? NO_GEO : Object.freeze(info);
}
