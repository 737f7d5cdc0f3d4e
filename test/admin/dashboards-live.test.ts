/**
 * The alert rules and the Grafana dashboard only query metrics a running gateway really exports:
 * every `switchyard_*` name they reference appears in a live /metrics scrape.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startUpstream } from '../helpers/upstream.ts';
import { gatewayConfig, repoRoot, startSwitchyard } from '../helpers/switchyard.ts';
import { declaredMetrics, parseSamples } from './metrics-text.ts';

const files = ['config/grafana/switchyard.json', 'config/prometheus/alerts.yaml'].map((f) => join(repoRoot, f));

test('every metric the dashboard and the alerts reference exists in /metrics', async (t) => {
  const present = files.filter((f) => existsSync(f));
  if (present.length === 0) {
    t.skip('config/grafana/switchyard.json and config/prometheus/alerts.yaml are absent');
    return;
  }
  const referenced = new Set(present.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/\bswitchyard_[a-z0-9_]+/g)].map((m) => m[0])));
  assert.ok(referenced.size > 0, 'the files reference switchyard metrics');

  const upstream = await startUpstream(t, 'any');
  const sy = await startSwitchyard(t, gatewayConfig({ east: upstream.url, south: upstream.url, standby: upstream.url }));
  // One forwarded request, so histogram series (_bucket, _sum, _count) exist.
  assert.equal((await fetch(`${sy.trafficUrl}/`)).status, 200);
  const text = await (await fetch(`${sy.adminUrl}/metrics`)).text();
  const exported = new Set([...declaredMetrics(text), ...parseSamples(text).map((s) => s.name)]);
  const missing = [...referenced].filter((name) => !exported.has(name));
  assert.deepEqual(missing, [], `referenced but not exported (${present.map((f) => f.slice(repoRoot.length)).join(', ')})`);
});
