/**
 * The alert rules and the Grafana dashboard only use metrics the gateway exports (SPEC §7), and every
 * alert's runbook exists in docs/operations.md. (The live /metrics check is a separate test.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from './processes.ts';

/** SPEC §7: counters and gauges, as exported. */
const specMetrics = new Set([
  'switchyard_requests_total', 'switchyard_cluster_healthy', 'switchyard_breaker_state', 'switchyard_cluster_inflight',
  'switchyard_dial_percent', 'switchyard_retries_total', 'switchyard_panic_total', 'switchyard_pinned_unavailable_total',
  'switchyard_spooled_total', 'switchyard_config_reloads_total', 'switchyard_state_store_up', 'switchyard_geo_lookups_total',
]);
/** Added to SPEC §7 and listed with the others in the README's metrics paragraph. */
for (const added of ['switchyard_listener_refusals_total']) specMetrics.add(added);
/** SPEC §7 histograms: only their `_bucket`, `_sum` and `_count` series exist. */
const specHistograms = new Set(['switchyard_request_duration_seconds', 'switchyard_upstream_duration_seconds']);
/** Labels of SPEC §7 (and `reason` of the added refusals metric), plus what Prometheus adds (instance, job) and histogram buckets (le). */
const knownLabels = new Set(['route', 'cluster', 'code', 'result', 'instance', 'job', 'le', 'reason']);

interface Rule { alert: string; expr: string; for?: string; labels: Record<string, string>; annotations: Record<string, string> }

const alertsText = readFileSync(join(repoRoot, 'config/prometheus/alerts.yaml'), 'utf8');
const rules = (parse(alertsText) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const dashboardText = readFileSync(join(repoRoot, 'config/grafana/switchyard.json'), 'utf8');
const dashboard = JSON.parse(dashboardText) as { panels: { id: number; type: string; title: string; targets?: { expr: string }[] }[] };
const operations = readFileSync(join(repoRoot, 'docs/operations.md'), 'utf8');

/** Every PromQL expression of the dashboard: panel targets, variables and annotations. */
function dashboardExpressions(): string[] {
  const found: string[] = [];
  JSON.parse(dashboardText, (key, value: unknown) => {
    if ((key === 'expr' || key === 'definition') && typeof value === 'string') found.push(value);
    return value;
  });
  return found;
}

function unknownMetrics(expressions: readonly string[]): string[] {
  const unknown = new Set<string>();
  for (const expr of expressions) {
    for (const [name] of expr.matchAll(/\bswitchyard_[a-z0-9_]+/g)) {
      const histogram = name.replace(/_(bucket|sum|count)$/, '');
      if (!specMetrics.has(name) && !(specHistograms.has(histogram) && histogram !== name)) unknown.add(name);
    }
  }
  return [...unknown];
}

function unknownLabels(expressions: readonly string[]): string[] {
  const unknown = new Set<string>();
  for (const expr of expressions) {
    const matchers = [...expr.matchAll(/\{([^}]*)\}/g)].flatMap((m) => [...m[1].matchAll(/([a-z_]+)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1]));
    const grouping = [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) => m[1].split(',').map((l) => l.trim()));
    for (const label of [...matchers, ...grouping]) if (label !== '' && !knownLabels.has(label)) unknown.add(label);
  }
  return [...unknown];
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchors(markdown: string): Set<string> {
  const headings = [...markdown.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => m[1].trim());
  return new Set(headings.map((h) => h.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-')));
}

test('alert rules use only SPEC §7 metrics and labels, and the additions the README documents', () => {
  const expressions = rules.map((r) => r.expr);
  assert.deepEqual(unknownMetrics(expressions), []);
  assert.deepEqual(unknownLabels(expressions), []);
});

test('the dashboard uses only SPEC §7 metrics and labels', () => {
  const expressions = dashboardExpressions();
  assert.ok(expressions.length >= 15, `the dashboard has queries (${expressions.length})`);
  assert.deepEqual(unknownMetrics(expressions), []);
  assert.deepEqual(unknownLabels(expressions), []);
});

test('the dashboard covers traffic, errors, p99, breakers, dials, fleet health, in-flight and the state store', () => {
  const all = dashboardExpressions().join('\n');
  for (const needed of ['switchyard_requests_total', 'switchyard_request_duration_seconds_bucket', 'switchyard_breaker_state',
    'switchyard_dial_percent', 'switchyard_cluster_healthy', 'switchyard_cluster_inflight', 'switchyard_state_store_up']) {
    assert.ok(all.includes(needed), needed);
  }
  const ids = dashboard.panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
});

test('the alerts cover the failure modes an SRE is paged for', () => {
  const byMetric = (metric: string) => rules.some((r) => r.expr.includes(metric));
  for (const metric of ['switchyard_pinned_unavailable_total', 'switchyard_state_store_up', 'switchyard_config_reloads_total',
    'switchyard_breaker_state', 'switchyard_panic_total', 'switchyard_requests_total']) {
    assert.ok(byMetric(metric), `an alert on ${metric}`);
  }
  assert.ok(rules.some((r) => /code="503"/.test(r.expr) && /cluster="none"/.test(r.expr)), 'an alert on the gateway answering 503 itself');
  assert.ok(rules.some((r) => /code=~"5\.\."/.test(r.expr)), 'an alert on the 5xx ratio');
});

test('every alert has a severity, a summary and a runbook section in docs/operations.md', () => {
  const headingAnchors = anchors(operations);
  for (const rule of rules) {
    assert.match(rule.labels.severity, /^(critical|warning|info)$/, rule.alert);
    assert.ok(rule.annotations.summary, `${rule.alert} has a summary`);
    const runbook = /^docs\/operations\.md#(.+)$/.exec(rule.annotations.runbook_url ?? '');
    assert.ok(runbook, `${rule.alert} links docs/operations.md#...`);
    assert.ok(headingAnchors.has(runbook[1]), `docs/operations.md has a heading for #${runbook[1]}`);
  }
  assert.equal(new Set(rules.map((r) => r.alert)).size, rules.length, 'alert names are unique');
});
