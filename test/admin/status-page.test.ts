/**
 * The status page renders in a real browser (Chromium): it asks for the token, then shows every
 * configured cluster, the routes with their dial, the fleet and the traffic chart, with no request
 * leaving the admin origin. A screenshot is kept in test-artifacts/status-page.png.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startUpstream } from '../helpers/upstream.ts';
import { adminToken, gatewayConfig, repoRoot, startSwitchyard } from '../helpers/switchyard.ts';

const chromiumPath = '/usr/bin/chromium';
const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

test('the status page shows every configured cluster, the dials and the traffic split', async (t) => {
  if (!existsSync(chromiumPath)) {
    t.skip(`${chromiumPath} is absent (apt-get install -y chromium)`);
    return;
  }
  const [east, south, standby] = await Promise.all(['east', 'south', 'standby'].map((n) => startUpstream(t, n)));
  const sy = await startSwitchyard(t, gatewayConfig({ east: east.url, south: south.url, standby: standby.url }, { trustedProxies: ['127.0.0.1/32'] }));
  for (const ip of ['127.0.0.1', '202.96.128.86', '127.0.0.1']) await (await fetch(`${sy.trafficUrl}/`, { headers: { 'x-forwarded-for': ip } })).arrayBuffer();
  await fetch(`${sy.adminUrl}/api/routes/storefront/dial`, {
    method: 'PUT', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: '{"percent":15,"ttlSeconds":600}',
  });

  const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const foreign: string[] = [];
  const problems: string[] = [];
  page.on('request', (r) => { if (!r.url().startsWith(sy.adminUrl)) foreign.push(r.url()); });
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().includes('401')) problems.push(m.text()); });

  await page.goto(`${sy.adminUrl}/`);
  await page.locator('#token').waitFor({ state: 'visible', timeout: 5000 });
  await page.fill('#token', adminToken);
  await page.click('#login button');
  for (const cluster of ['trade-east', 'trade-south', 'promo-standby']) {
    await page.locator(`#clusters tr[data-cluster="${cluster}"]`).waitFor({ timeout: 5000 });
  }
  const storefront = await page.locator('#routes tr[data-route="storefront"]').innerText();
  assert.match(storefront, /15 %/);
  assert.match(storefront, /override/);
  assert.match(await page.locator('#store').innerText(), /memory \(up\)/);
  assert.ok(await page.locator('#chart rect').count() >= 2, 'the traffic chart has bars for both clusters that served');
  assert.match(await page.locator('#legend').innerText(), /trade-east 2/);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('switchyard-admin-token')), adminToken, 'the token stays in the tab');

  const artifacts = join(repoRoot, 'test-artifacts');
  await mkdir(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, 'status-page.png'), fullPage: true });
  assert.deepEqual(foreign, [], 'no request leaves the admin origin');
  assert.deepEqual(problems, [], 'no script errors (the CSP allows the inline script and style)');
});
