import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configOf, issuesOf, minimalConfig } from './fixtures.ts';

test('a value that is one ${VAR} is read as a YAML scalar: numbers and booleans', () => {
  const config = configOf([...minimalConfig, 'listen:', '  port: ${PORT}', 'reload: { watch: "${WATCH}" }'], { PORT: '9090', WATCH: 'false' });
  assert.equal(config.listen.port, 9090);
  assert.equal(config.reload.watch, false);
});

test('${VAR:-default} uses the default when the variable is unset or empty', () => {
  const lines = [...minimalConfig, 'listen: { host: "${HOST:-127.0.0.1}", port: "${PORT:-8081}" }'];
  assert.deepEqual(configOf(lines, {}).listen, { host: '127.0.0.1', port: 8081 });
  assert.deepEqual(configOf(lines, { HOST: '', PORT: '7000' }).listen, { host: '127.0.0.1', port: 7000 });
});

test('references inside longer strings are substituted as text', () => {
  const config = configOf([...minimalConfig, 'state: { redis: "redis://:${REDIS_PASSWORD}@${REDIS_HOST:-127.0.0.1}:6379/0" }'], { REDIS_PASSWORD: '12345' });
  assert.equal(config.state.redis, 'redis://:12345@127.0.0.1:6379/0');
});

test('an all-digit secret stays a string where the schema wants a string', () => {
  const config = configOf([...minimalConfig, 'admin: { token: "${TOKEN}" }'], { TOKEN: '0012345' });
  assert.equal(config.admin.token, '0012345');
});

test('an empty default is an empty string, not null', () => {
  assert.equal(configOf([...minimalConfig, 'admin: { token: "${SWITCHYARD_ADMIN_TOKEN:-}" }']).admin.token, '');
});

test('a variable cannot inject YAML structure', () => {
  const lines = [...minimalConfig, 'admin: { token: "${TOKEN}" }'];
  for (const value of ['a: b\nc: d', '[1, 2]', '{ port: 1 }', 'x # not a comment', '"quoted"', '&anchor x']) {
    assert.equal(configOf(lines, { TOKEN: value }).admin.token, value, `TOKEN=${JSON.stringify(value)}`);
  }
});

test('$${ is a literal ${', () => {
  assert.equal(configOf([...minimalConfig, 'state: { keyPrefix: "$${HOME}:" }'], { HOME: '/root' }).state.keyPrefix, '${HOME}:');
});

test('keys are not interpolated', () => {
  assert.deepEqual(issuesOf([...minimalConfig, 'listen:', '  "${KEY}": 8080'], { KEY: 'port' }), [
    'cfg.yaml:8:3 listen["${KEY}"]: unknown key "${KEY}"',
  ]);
});

test('an unset variable without a default is an error naming it, at its value', () => {
  assert.deepEqual(issuesOf([...minimalConfig, 'listen:', '  port: ${PORT}', 'admin: { token: "Bearer ${TOKEN}" }']), [
    'cfg.yaml:8:9 listen.port: environment variable PORT is not set (write ${PORT:-default} to give it a default)',
    'cfg.yaml:9:17 admin.token: environment variable TOKEN is not set (write ${TOKEN:-default} to give it a default)',
  ]);
});

test('malformed references are errors', () => {
  assert.deepEqual(issuesOf([...minimalConfig, 'admin:', '  token: "${lower case}"', '  host: "${HOST"']), [
    'cfg.yaml:8:10 admin.token: invalid variable reference "${lower case}": expected ${NAME} or ${NAME:-default}',
    'cfg.yaml:9:9 admin.host: unterminated "${": close it with "}", or write "$${" for a literal "${"',
  ]);
});

test('a ${...} left unquoted inside a flow map gets a hint', () => {
  assert.deepEqual(issuesOf([...minimalConfig, 'listen: { port: ${PORT} }'], { PORT: '1' }), [
    'cfg.yaml:7:18: unexpected flow-map-start at node end; a ${...} value inside { } or [ ] must be quoted: "${VAR}"',
  ]);
});
