import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis } from '../helpers/redis.ts';
import { startSwitchyard, waitFor } from '../helpers/switchyard.ts';
import { startUpstream } from '../helpers/upstream.ts';
import { send } from '../helpers/client.ts';

test('spool depth, oldest age and dead letters are exported per spooling route', async (t) => {
  const redis = await startRedis(t);
  const primary = await startUpstream(t, 'primary');
  await primary.close();
  const sy = await startSwitchyard(t, {
    state: { redis: redis.url, publishIntervalMs: 200, staleAfterMs: 1000 },
    regions: { here: { location: [31.23, 121.47] } },
    clusters: { primary: { region: 'here', role: 'primary', endpoints: [primary.url] } },
    routes: [{ name: 'webhooks', match: { pathPrefix: '/webhooks/' }, pin: 'primary', spool: { enabled: true } }],
  });
  for (let i = 0; i < 3; i++) {
    const answer = await send(`${sy.trafficUrl}/webhooks/pay`, { method: 'POST', body: `event-${i}` });
    assert.equal(answer.status, 202);
  }
  const scrape = async () => (await fetch(`${sy.adminUrl}/metrics`)).text();
  await waitFor('the spool gauges to show the three webhooks', async () =>
    /^switchyard_spool_depth\{route="webhooks"\} 3$/m.test(await scrape()), 5000);
  const text = await scrape();
  assert.match(text, /^switchyard_spool_oldest_age_seconds\{route="webhooks"\} [\d.]+$/m);
  assert.match(text, /^switchyard_spool_dead_letters\{route="webhooks"\} 0$/m);
  assert.match(text, /^switchyard_spooled_total 3$/m);
});
