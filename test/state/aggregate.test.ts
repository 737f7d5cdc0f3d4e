import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateCluster } from '../../src/state/aggregate.ts';
import type { ClusterReport, ExternalReport, InstanceReport } from '../../src/state/report.ts';

const e1 = 'http://10.0.0.1';
const e2 = 'http://10.0.0.2';

function report(id: string, view: Partial<ClusterReport> | undefined): InstanceReport {
  const cluster: ClusterReport = { endpoints: {}, latencyMs: 0, p99Ms: 0, errorRate: 0, requests: 0, inflight: 0, breaker: 'closed', ...view };
  return { v: 1, id, at: 0, clusters: view === undefined ? {} : { east: cluster } };
}

function health(own: Partial<ClusterReport> | undefined, remote: (Partial<ClusterReport> | undefined)[],
  options: { external?: ExternalReport; isolated?: boolean } = {}) {
  const agg = aggregateCluster({
    cluster: 'east', endpoints: [e1, e2], own: report('self', own),
    remote: remote.map((v, i) => report(`r${i}`, v)), external: options.external, preferOwnHealth: options.isolated ?? false,
  });
  return { cluster: agg.healthy, endpoints: agg.endpoints.map((e) => e.healthy) };
}

test('endpoint health is a strict majority of the verdicts on it; the cluster is healthy when one endpoint is', () => {
  const up = { endpoints: { [e1]: true, [e2]: true } };
  const down = { endpoints: { [e1]: false, [e2]: false } };
  const firstDown = { endpoints: { [e1]: false, [e2]: true } };
  const cases: [string, ReturnType<typeof health>, ReturnType<typeof health>][] = [
    ['no view at all', health(undefined, []), { cluster: undefined, endpoints: [undefined, undefined] }],
    ['own view alone', health(down, []), { cluster: false, endpoints: [false, false] }],
    ['one dissenter of three', health(down, [up, up]), { cluster: true, endpoints: [true, true] }],
    ['two dissenters of three', health(up, [down, down]), { cluster: false, endpoints: [false, false] }],
    ['a tie is not a majority', health(up, [down]), { cluster: false, endpoints: [false, false] }],
    ['one endpoint down', health(firstDown, [firstDown]), { cluster: true, endpoints: [false, true] }],
    ['instances that do not probe have no vote', health({}, [{}, up]), { cluster: true, endpoints: [true, true] }],
    ['partial probers', health({ endpoints: { [e1]: false } }, [{ endpoints: { [e2]: false } }]), { cluster: false, endpoints: [false, false] }],
    ['an unknown endpoint keeps the cluster unknown', health({ endpoints: { [e1]: false } }, []), { cluster: undefined, endpoints: [false, undefined] }],
    ['external cluster verdict votes on every endpoint', health(up, [up], { external: { healthy: false } }), { cluster: true, endpoints: [true, true] }],
    ['external endpoint verdicts', health(up, [], { external: { healthy: true, endpoints: { [e1]: false } } }), { cluster: true, endpoints: [false, true] }],
    ['isolated: own verdicts win over frozen ones', health(down, [up, up], { isolated: true }), { cluster: false, endpoints: [false, false] }],
    ['isolated: frozen votes where own has none', health({ endpoints: { [e1]: false } }, [up, up], { isolated: true }), { cluster: true, endpoints: [false, true] }],
  ];
  for (const [name, actual, expected] of cases) assert.deepEqual(actual, expected, name);
});

test('latency and error rate are weighted by requests; in-flight counts add up', () => {
  const agg = aggregateCluster({
    cluster: 'east', endpoints: [e1], external: undefined, preferOwnHealth: false,
    own: report('self', { latencyMs: 10, p99Ms: 50, errorRate: 0, requests: 30, inflight: 2 }),
    remote: [report('r0', { latencyMs: 100, p99Ms: 250, errorRate: 0.4, requests: 10, inflight: 3 }),
      report('r1', { latencyMs: 9999, errorRate: 1, requests: 0, inflight: 0 }), report('r2', undefined)],
  });
  assert.equal(agg.latencyMs, (10 * 30 + 100 * 10) / 40);
  assert.equal(agg.p99Ms, (50 * 30 + 250 * 10) / 40);
  assert.equal(agg.errorRate, 0.1);
  assert.equal(agg.inflight, 5);
});
