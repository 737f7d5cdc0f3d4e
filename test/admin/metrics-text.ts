/** Reading Prometheus text exposition in tests: samples by name and labels. */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Every sample line of an exposition. */
export function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value;
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample of `name` whose labels include `labels`; undefined when none. */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = parseSamples(text).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

/** Metric families declared by `# TYPE` lines. */
export function declaredMetrics(text: string): Set<string> {
  return new Set([...text.matchAll(/^# TYPE (\S+) \S+$/gm)].map((m) => m[1]));
}

/** SPEC §7's metric names. */
export const specMetricNames = [
  'switchyard_requests_total', 'switchyard_request_duration_seconds', 'switchyard_upstream_duration_seconds',
  'switchyard_cluster_healthy', 'switchyard_breaker_state', 'switchyard_cluster_inflight', 'switchyard_dial_percent',
  'switchyard_retries_total', 'switchyard_panic_total', 'switchyard_pinned_unavailable_total', 'switchyard_spooled_total',
  'switchyard_config_reloads_total', 'switchyard_state_store_up', 'switchyard_geo_lookups_total',
] as const;
