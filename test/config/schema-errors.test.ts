import { test } from 'node:test';
import assert from 'node:assert/strict';
import { issuesOf, minimalConfig } from './fixtures.ts';

const urlRule = 'must be an http(s) URL without path, query or credentials';

test('an unknown key is reported at the key, with the key it was probably meant to be', () => {
  assert.deepEqual(issuesOf([...minimalConfig, 'listen:', '  porrt: 8080']), [
    'cfg.yaml:8:3 listen.porrt: unknown key "porrt" (did you mean port?)',
  ]);
});

test('an unknown key with nothing close to it gets no suggestion', () => {
  assert.deepEqual(issuesOf([...minimalConfig, 'colour: blue']), ['cfg.yaml:7:1 colour: unknown key "colour"']);
});

test('a bad endpoint is reported at the value, with its path into the cluster', () => {
  assert.deepEqual(issuesOf([
    'regions:',
    '  east-china: { location: [31.23, 121.47] }',
    'clusters:',
    '  trade-east:',
    '    region: east-china',
    '    endpoints:',
    '      - ftp://10.1.0.10',
    'routes:',
    '  - name: storefront',
  ]), [`cfg.yaml:7:9 clusters.trade-east.endpoints[0]: ${urlRule}`]);
});

test('a missing required key points at the key of its nearest parent', () => {
  assert.deepEqual(issuesOf([
    'regions:',
    '  east-china: { location: [31.23, 121.47] }',
    'clusters:',
    '  trade-east: { role: primary, endpoints: [http://127.0.0.1:1] }',
    'routes:',
    '  - { match: { pathPrefix: / } }',
  ]), [
    'cfg.yaml:4:3 clusters.trade-east.region: is required',
    'cfg.yaml:6:5 routes[0].name: is required',
  ]);
});

test('a missing top-level section points at the start of the file', () => {
  assert.deepEqual(issuesOf(minimalConfig.slice(0, 4)), ['cfg.yaml:1:1 routes: is required']);
});

test('an empty value is reported at its key', () => {
  assert.deepEqual(issuesOf([
    'regions:',
    '  east-china: { location: [31.23, 121.47] }',
    'clusters:',
    '  trade-east:',
    '    region:',
    '    endpoints: [http://127.0.0.1:1]',
    'routes: [{ name: storefront }]',
  ]), ['cfg.yaml:5:5 clusters.trade-east.region: must be a string, not empty']);
});

test('wrong types, ranges, enums, formats and map keys read as config rules', () => {
  assert.deepEqual(issuesOf([
    'listen: { port: eighty }',
    'admin: { port: 70000 }',
    'regions:',
    '  east china: { location: [31.23] }',
    'clusters:',
    '  trade-east: { role: leader, region: east-china, weight: 1.5, endpoints: [] }',
    'routes:',
    '  - { name: storefront, match: { pathPrefix: shop } }',
    'schedules:',
    '  - { name: double-11, from: "2026-11-10 16:00", to: 2026-11-12T16:00:00Z, dials: { storefront: 140 } }',
  ]), [
    'cfg.yaml:1:17 listen.port: must be a number, not a string',
    'cfg.yaml:2:16 admin.port: must be <= 65535',
    'cfg.yaml:4:3 regions["east china"]: invalid key: must be 1-63 letters, digits, ".", "_" or "-"',
    'cfg.yaml:6:23 clusters.trade-east.role: must be one of primary, trade, standby',
    'cfg.yaml:6:59 clusters.trade-east.weight: must be an integer, not a fraction',
    'cfg.yaml:6:75 clusters.trade-east.endpoints: must have at least 1 item',
    'cfg.yaml:8:46 routes[0].match.pathPrefix: must start with "/"',
    'cfg.yaml:10:30 schedules[0].from: must be an RFC 3339 date-time with an offset, such as 2026-11-10T16:00:00Z',
    'cfg.yaml:10:97 schedules[0].dials.storefront: must be <= 100',
  ]);
});

test('a config that is not a map says so', () => {
  assert.deepEqual(issuesOf(['- regions', '- clusters']), ['cfg.yaml:1:1: must be a map, not a list']);
});

test('every problem is reported at once, in file order', () => {
  const issues = issuesOf([
    'listen: { host: 0.0.0.0, prot: 8080 }',
    'regions:',
    '  east-china: { location: [31.23, 121.47], country: [CN] }',
    'clusters:',
    '  trade-east: { role: primary, region: east-china, endpoints: [http://127.0.0.1:1, "http://u:p@10.0.0.1"] }',
    'routes:',
    '  - { name: storefront, match: { pathPrefix: / }, retry: { attempts: 9 } }',
  ]);
  assert.deepEqual(issues, [
    'cfg.yaml:1:26 listen.prot: unknown key "prot" (did you mean port?)',
    'cfg.yaml:3:44 regions.east-china.country: unknown key "country" (did you mean countries?)',
    `cfg.yaml:5:84 clusters.trade-east.endpoints[1]: ${urlRule}`,
    'cfg.yaml:7:70 routes[0].retry.attempts: must be <= 5',
  ]);
});
