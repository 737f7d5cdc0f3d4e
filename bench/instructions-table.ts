/** The table `npm run bench:instructions` prints: instructions per request, and each target against the others. */
import type { DumpCounts } from './callgrind.ts';
import type { ProfileId } from './profiles.ts';
import { TARGET_LABELS, type TargetId } from './targets.ts';

/** The Node proxies; NGINX has no JIT to warm and forks its worker, so it is not counted. */
export const COUNTED_TARGETS = ['bare', 'fastify-http-proxy', 'switchyard'] as const satisfies readonly TargetId[];
export type CountedTarget = (typeof COUNTED_TARGETS)[number];
/** The throughput profiles (the fixed-rate one measures latency, which instructions do not tell). */
export const COUNTED_PROFILES = ['get', 'post', 'webhook'] as const satisfies readonly ProfileId[];
export type CountedProfile = (typeof COUNTED_PROFILES)[number];

/** What one target × profile counted. */
export interface Count extends DumpCounts {
  readonly target: CountedTarget;
  readonly profile: CountedProfile;
  /** Requests counted. */
  readonly requests: number;
  /** Non-2xx answers during warm-up and counting. */
  readonly failed: number;
}

export const thousands = (value: number) => Math.round(value).toLocaleString('en-US');

/**
 * The markdown table, one row per target × profile: the lowest count of its processes (a late
 * deoptimisation only ever adds), the spread, and that count against bare's and @fastify/http-proxy's.
 */
export function renderInstructionTable(counts: readonly Count[]): string {
  const perRequest = (c: Count, field: 'all' | 'main') => c[field] / c.requests;
  const rows: Count[][] = [];
  for (const c of counts) {
    const row = rows.find((r) => r[0].target === c.target && r[0].profile === c.profile);
    if (row === undefined) rows.push([c]);
    else row.push(c);
  }
  const lowest = (row: readonly Count[]) => row.reduce((a, b) => (perRequest(b, 'all') < perRequest(a, 'all') ? b : a));
  const find = (target: CountedTarget, profile: CountedProfile) => {
    const row = rows.find((r) => r[0].target === target && r[0].profile === profile);
    return row === undefined ? undefined : lowest(row);
  };
  const ratio = (c: Count, against: Count | undefined) => against === undefined ? '–' : `${(perRequest(c, 'all') / perRequest(against, 'all')).toFixed(2)}×`;
  const lines = [
    '| target | profile | instructions / request | spread | main thread | × bare | × @fastify/http-proxy |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of rows) {
    const best = lowest(row);
    const all = row.map((c) => perRequest(c, 'all'));
    const spread = row.length === 1 ? '–' : `${thousands(Math.min(...all))}–${thousands(Math.max(...all))}`;
    const failed = row.reduce((sum, c) => sum + c.failed, 0);
    const warning = failed > 0 ? ` ⚠ ${failed} failed` : '';
    lines.push(`| ${TARGET_LABELS[best.target]} | ${best.profile}${warning} | ${thousands(perRequest(best, 'all'))} | ${spread} | `
      + `${thousands(perRequest(best, 'main'))} | ${ratio(best, find('bare', best.profile))} | ${ratio(best, find('fastify-http-proxy', best.profile))} |`);
  }
  return lines.join('\n');
}
