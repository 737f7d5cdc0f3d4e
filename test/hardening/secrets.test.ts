/**
 * Secrets never leave the process (SPEC §9): the admin token, the Redis password, the affinity key and
 * what clients send in Authorization, Cookie, Proxy-Authorization and query strings appear in no log line
 * (debug level, with Redis failing so that connection errors are logged too), in no error body, not in
 * `/api/status`, `/api/explain` or `/metrics`. The real process, as operators run it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis, redisClient } from '../helpers/redis.ts';
import { startUpstream } from '../helpers/upstream.ts';
import { gatewayConfig, spawnSwitchyard } from '../helpers/switchyard.ts';
import { rawExchange } from './raw-http.ts';

/** Every secret carries this marker, so one search finds any of them. */
const marker = 'S3CRET';
const adminToken = `tok-${marker}-admin`;
const redisPassword = `pw-${marker}-redis`;

test('no secret appears in logs, error bodies, status, explain or metrics', async (t) => {
  const redis = await startRedis(t);
  const setup = redisClient(t, redis);
  await setup.call('CONFIG', 'SET', 'requirepass', redisPassword);
  setup.disconnect();
  // Upstreams that do not echo: what they receive is theirs to see; only the gateway's answers count.
  const [east, standby] = await Promise.all(['east', 'standby'].map((n) => startUpstream(t, n, (_req, res) => res.end('ok'))));
  const config = gatewayConfig({ east: east.url, south: 'http://127.0.0.1:9', standby: standby.url }, {
    admin: { token: '${ADMIN_TOKEN}' },
    state: { redis: '${REDIS_URL}', publishIntervalMs: 200, staleAfterMs: 2000 },
    log: { level: 'debug', access: true },
  });
  (config.routes as { affinity?: unknown }[])[1].affinity = { cookie: 'sy', secret: `aff-${marker}-key` };
  const sy = await spawnSwitchyard(t, config, {
    ADMIN_TOKEN: adminToken, REDIS_URL: `redis://:${redisPassword}@127.0.0.1:${redis.port}`,
  });
  const seen: string[] = [];
  const collect = async (res: Response) => {
    seen.push(`${res.status} ${JSON.stringify([...res.headers])} ${await res.text()}`);
    return res.status;
  };
  const client = {
    authorization: `Bearer user-${marker}-1`, cookie: `session=cookie-${marker}-2; sy=forged`,
    'proxy-authorization': `Basic proxy-${marker}-3`,
  };
  await collect(await fetch(`${sy.trafficUrl}/products/1?token=query-${marker}-4`, { headers: client }));
  await collect(await fetch(`${sy.trafficUrl}/webhooks/payment/x?sig=query-${marker}-5`, { method: 'POST', headers: client, body: 'x' }));
  // trade-south refuses connections: a Guangdong client gets a failover or a gateway error.
  await collect(await fetch(`${sy.trafficUrl}/cart`, { headers: { ...client, 'x-forwarded-for': '202.96.128.86' } }));
  seen.push((await rawExchange(Number(new URL(sy.trafficUrl).port),
    `GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer raw-${marker}-6\r\nBad Header: x\r\n\r\n`)).text);
  const wrong = { authorization: `Bearer wrong-${marker}-7` };
  assert.equal(await collect(await fetch(`${sy.adminUrl}/api/status`, { headers: wrong })), 401);
  const admin = { authorization: `Bearer ${adminToken}` };
  assert.equal(await collect(await fetch(`${sy.adminUrl}/api/status`, { headers: admin })), 200);
  assert.equal(await collect(await fetch(`${sy.adminUrl}/api/explain?ip=202.96.128.86&path=/x`, { headers: admin })), 200);
  assert.equal(await collect(await fetch(`${sy.adminUrl}/api/reload`, { method: 'POST', headers: admin })), 200);
  // Connection errors are logged while Redis is away.
  await redis.kill();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(await collect(await fetch(`${sy.adminUrl}/api/status`, { headers: admin })), 200);
  assert.equal(await collect(await fetch(`${sy.adminUrl}/metrics`)), 200);

  const answered = seen.join('\n');
  assert.ok(answered.includes('"error"'), 'gateway errors were produced and looked at');
  assert.ok(!answered.includes(marker), `a secret in an answer: ${excerpt(answered)}`);
  const logs = `${sy.stdout()}\n${sy.stderr()}`;
  assert.ok(sy.logLines().some((line) => line.msg === 'request'), 'access lines were written');
  assert.ok(!logs.includes(marker), `a secret in the log: ${excerpt(logs)}`);
});

function excerpt(text: string): string {
  const at = text.indexOf(marker);
  return text.slice(Math.max(0, at - 200), at + 100);
}
