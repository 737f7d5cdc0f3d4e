/**
 * The analysis of `npm run bench:trace`: the slowest requests of a paced run grouped into episodes,
 * each laid next to the target's garbage collections and event-loop stalls at the time. Pure: the
 * runner collects, this reduces and renders.
 */

/** One measured response: when its request was sent (epoch ms) and how long it took. */
export interface TracedResponse {
  readonly sentAtMs: number;
  readonly latencyMs: number;
}

/** What the probe in the target recorded (see trace-probe.mjs). */
export interface ProcessEvent {
  readonly type: 'gc' | 'stall';
  /** perf_hooks GC kind (gc events). */
  readonly kind?: number;
  readonly atMs: number;
  readonly ms: number;
}

/** Slow requests close together in time, and what the target did meanwhile. */
export interface Episode {
  readonly startMs: number;
  readonly endMs: number;
  readonly slow: number;
  readonly events: readonly ProcessEvent[];
}

/** Slow requests less than this apart belong to one episode. */
const EPISODE_GAP_MS = 20;
/** How far before an episode an event may start and still be shown with it. */
const LEAD_MS = 5;

const GC_KINDS: Readonly<Record<number, string>> = { 1: 'scavenge', 2: 'minor mark-sweep', 4: 'mark-compact', 8: 'incremental marking', 16: 'weak callbacks' };

/** The q-quantile (0..1) of ascending values. */
export function quantile(sorted: readonly number[], q: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
}

/** Requests at or above `thresholdMs`, grouped by send time; largest episodes first. */
export function slowEpisodes(responses: readonly TracedResponse[], thresholdMs: number,
  events: readonly ProcessEvent[]): Episode[] {
  const slow = responses.filter((r) => r.latencyMs >= thresholdMs).sort((a, b) => a.sentAtMs - b.sentAtMs);
  const groups: { startMs: number; endMs: number; slow: number }[] = [];
  for (const r of slow) {
    const last = groups.at(-1);
    if (last !== undefined && r.sentAtMs - last.endMs < EPISODE_GAP_MS) {
      last.endMs = Math.max(last.endMs, r.sentAtMs + r.latencyMs);
      last.slow++;
    } else {
      groups.push({ startMs: r.sentAtMs, endMs: r.sentAtMs + r.latencyMs, slow: 1 });
    }
  }
  return groups
    .map((g) => ({ ...g, events: events.filter((e) => e.atMs + e.ms > g.startMs - LEAD_MS && e.atMs < g.endMs) }))
    .sort((a, b) => b.slow - a.slow);
}

/** Share of `responses` whose time in flight overlaps an event of `type`. */
export function overlapShare(responses: readonly TracedResponse[], events: readonly ProcessEvent[], type: ProcessEvent['type']): number {
  const spans = events.filter((e) => e.type === type).sort((a, b) => a.atMs - b.atMs);
  if (responses.length === 0) return Number.NaN;
  let hit = 0;
  for (const r of responses) {
    const end = r.sentAtMs + r.latencyMs;
    if (spans.some((e) => e.atMs < end && e.atMs + e.ms > r.sentAtMs)) hit++;
  }
  return hit / responses.length;
}

/** What happened in a window: counts and total milliseconds per GC kind and for stalls. */
export function eventTotals(events: readonly ProcessEvent[]): string {
  const totals = new Map<string, { count: number; ms: number; maxMs: number }>();
  for (const e of events) {
    const name = e.type === 'stall' ? 'stalls > 1 ms' : GC_KINDS[e.kind ?? 0] ?? `gc kind ${e.kind}`;
    const t = totals.get(name) ?? { count: 0, ms: 0, maxMs: 0 };
    t.count++;
    t.ms += e.ms;
    t.maxMs = Math.max(t.maxMs, e.ms);
    totals.set(name, t);
  }
  if (totals.size === 0) return 'none recorded';
  return [...totals].map(([name, t]) => `${name} ${t.count} (${t.ms.toFixed(0)} ms, longest ${t.maxMs.toFixed(1)} ms)`).join('; ');
}

/** One line per episode: when (seconds into the measured run), how long, how many slow, and the events. */
export function renderEpisodes(episodes: readonly Episode[], runStartMs: number, limit: number): string[] {
  return episodes.slice(0, limit).map((ep) => {
    const events = ep.events.map((e) => {
      const what = e.type === 'stall' ? 'stall' : GC_KINDS[e.kind ?? 0] ?? 'gc';
      return `${what} ${e.ms.toFixed(1)} ms @${(e.atMs - ep.startMs).toFixed(0)}`;
    });
    return `  +${((ep.startMs - runStartMs) / 1000).toFixed(2)} s, ${(ep.endMs - ep.startMs).toFixed(0)} ms, ${ep.slow} slow: ${events.join(', ') || 'nothing in the target'}`;
  });
}
