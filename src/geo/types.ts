/** What the gateway knows of a client's location (SPEC §2.2). Every field is absent when unknown. */
export interface GeoInfo {
  /** MaxMind continent code, e.g. `AS`, `EU`. */
  readonly continent?: string;
  /** ISO 3166-1 alpha-2 country code, e.g. `CN`. */
  readonly country?: string;
  /** ISO 3166-2 code of the first subdivision, e.g. `CN-GD`. */
  readonly subdivision?: string;
  readonly latitude?: number;
  readonly longitude?: number;
}

/** Resolves a client address to its location; synchronous and cached, never touches disk per call. */
export interface GeoLookup {
  lookup(ip: string): GeoInfo | undefined;
}

/** A lookup that knows nothing: for tests and offline tools without a database. */
export const noGeo: GeoLookup = Object.freeze({ lookup: () => undefined });
