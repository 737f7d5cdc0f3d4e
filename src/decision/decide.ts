/**
 * The routing decision (SPEC §2.3-2.4, §4, §5): a pure, synchronous function of the request, the
 * runtime config, the fleet snapshot, the local breakers, the time and a random source. The proxy and
 * `explain` (CLI and API) call this same function, so the gateway cannot explain something other than
 * what it did.
 */
import type { RuntimeCluster, RuntimeConfig, RuntimeRoute } from '../config/runtime.ts';
import type { ErrorCode } from '../errors.ts';
import type { GeoInfo } from '../geo/types.ts';
import type { BreakerView, FleetSnapshot } from '../state/snapshot.ts';
import { clientBucket } from './client-hash.ts';
import { costTerms, totalCost, type CostTerms } from './cost.ts';
import { effectiveDial, type EffectiveDial } from './dial.ts';
import { ineligibleReasons, isPanic, standingOf, type IneligibleReason, type Standing } from './eligibility.ts';
import { matchRoute, type MatchInput } from './match.ts';
import type { OverflowView } from '../standby/overflow.ts';

/** The request facts a decision depends on. */
export interface DecisionRequest extends MatchInput {
  readonly clientIp: string;
  readonly geo: GeoInfo | undefined;
  /** What dials hash: the affinity cookie's client id when present, else the client address. */
  readonly clientKey: string;
  /** Cluster named by a valid (verified) affinity cookie. */
  readonly affinityCluster?: string;
}

export interface DecisionContext {
  readonly runtime: RuntimeConfig;
  readonly snapshot: FleetSnapshot;
  readonly breakers: BreakerView;
  readonly nowMs: number;
  /** Uniform in [0, 1); injected so tests are deterministic tables. */
  readonly random: () => number;
  /** Overflow with hysteresis, kept across snapshots; without it the limits apply as plain thresholds. */
  readonly overflow?: OverflowView;
}

export interface Candidate {
  readonly cluster: RuntimeCluster;
  readonly eligible: boolean;
  readonly reasons: readonly IneligibleReason[];
  readonly costMs: number | null;
  readonly terms: CostTerms | undefined;
}

export type DecisionReason =
  | 'no route' | 'pinned' | 'pinned cluster unavailable' | 'lowest cost' | 'weighted tie' | 'slow start'
  | 'affinity' | 'dial' | 'overflow' | 'failover' | 'no eligible cluster';

interface DecisionBase {
  readonly route: RuntimeRoute | undefined;
  readonly reason: DecisionReason;
  readonly dial: EffectiveDial | undefined;
  readonly candidates: readonly Candidate[];
  /** Health was ignored for this route (SPEC §4 panic rule). */
  readonly panic: boolean;
}

export interface ForwardDecision extends DecisionBase {
  readonly action: 'forward';
  readonly route: RuntimeRoute;
  readonly cluster: RuntimeCluster;
  /** Where a retry or failover goes next, best first; never set for pinned routes. */
  readonly fallbacks: readonly RuntimeCluster[];
}

export interface RejectDecision extends DecisionBase {
  readonly action: 'reject';
  readonly error: ErrorCode;
  readonly retryAfterSeconds?: number;
}

export interface SpoolDecision extends DecisionBase {
  readonly action: 'spool';
  readonly route: RuntimeRoute;
  readonly cluster: RuntimeCluster;
}

export type Decision = ForwardDecision | RejectDecision | SpoolDecision;

const noCandidates: readonly Candidate[] = Object.freeze([]);

/** Decides where a request goes. */
export function decide(request: DecisionRequest, ctx: DecisionContext): Decision {
  return decideForRoute(matchRoute(ctx.runtime.routes, request), request, ctx);
}

/** The decision once the route is known (the proxy matches first, to read the route's affinity cookie). */
export function decideForRoute(route: RuntimeRoute | undefined, request: DecisionRequest, ctx: DecisionContext): Decision {
  if (route === undefined) {
    return { action: 'reject', error: 'no_route', route, reason: 'no route', dial: undefined, candidates: noCandidates, panic: false };
  }
  return route.pin !== undefined ? decidePinned(route, route.pin, request, ctx) : decideScored(route, request, ctx);
}

/** Pinned routes: that cluster or nothing; no dial, overflow, affinity or failover (SPEC §2.4). */
function decidePinned(route: RuntimeRoute, pin: RuntimeCluster, request: DecisionRequest, ctx: DecisionContext): Decision {
  const standing = standingOf(pin, ctx.snapshot, ctx.breakers, ctx.runtime.config.scoring, ctx.nowMs);
  const panic = isPanic([standing]);
  // Failback hold exists to stop traffic flapping between clusters; a pinned route has nowhere else to go.
  const reasons = ineligibleReasons(standing, panic, true);
  const candidate = candidateOf(standing, reasons, request.geo, ctx);
  const base = { route, dial: undefined, candidates: [candidate], panic };
  if (reasons.length === 0) return { ...base, action: 'forward', cluster: pin, fallbacks: [], reason: 'pinned' };
  if (route.config.spool?.enabled === true) return { ...base, action: 'spool', cluster: pin, reason: 'pinned cluster unavailable' };
  return {
    ...base, action: 'reject', error: 'pinned_cluster_unavailable', reason: 'pinned cluster unavailable',
    retryAfterSeconds: route.config.onUnavailable.retryAfterSeconds,
  };
}

/** Scored routes: cheapest eligible trade cluster, then dial, overflow, affinity and failover (SPEC §4-5). */
function decideScored(route: RuntimeRoute, request: DecisionRequest, ctx: DecisionContext): Decision {
  const { scoring } = ctx.runtime.config;
  const standings = route.candidates.map((c) => standingOf(c, ctx.snapshot, ctx.breakers, scoring, ctx.nowMs));
  const standbyStanding = route.standby === undefined ? undefined
    : standingOf(route.standby, ctx.snapshot, ctx.breakers, scoring, ctx.nowMs);
  const all = standbyStanding === undefined ? standings : [...standings, standbyStanding];
  const panic = isPanic(all);
  // A held cluster is still better than none: holds are waived when they alone would leave nothing.
  const waiveHold = !all.some((s) => ineligibleReasons(s, panic, false).length === 0);
  const trade = standings.map((s) => candidateOf(s, ineligibleReasons(s, panic, waiveHold), request.geo, ctx));
  const standby = standbyStanding === undefined ? undefined
    : candidateOf(standbyStanding, ineligibleReasons(standbyStanding, panic, waiveHold), request.geo, ctx);
  const candidates = standby === undefined ? trade : [...trade, standby];
  const dial = effectiveDial(route, ctx.runtime, ctx.snapshot, ctx.nowMs);
  const base = { route, dial, candidates, panic };

  const eligibleTrade = byCost(trade.filter((c) => c.eligible));
  const standbyEligible = standby?.eligible === true;
  if (eligibleTrade.length === 0) {
    if (standbyEligible) return { ...base, action: 'forward', cluster: standby!.cluster, fallbacks: [], reason: 'failover' };
    return { ...base, action: 'reject', error: 'no_healthy_cluster', reason: 'no eligible cluster' };
  }
  const fallbacksAfter = (chosen: RuntimeCluster) => {
    const rest: RuntimeCluster[] = [];
    for (const c of eligibleTrade) if (c.cluster !== chosen) rest.push(c.cluster);
    if (standbyEligible && standby!.cluster !== chosen) rest.push(standby!.cluster);
    return rest;
  };
  const forward = (cluster: RuntimeCluster, reason: DecisionReason): ForwardDecision =>
    ({ ...base, action: 'forward', cluster, fallbacks: fallbacksAfter(cluster), reason });

  if (standbyEligible && dial.percent > 0 && clientBucket(route.name, request.clientKey) < dial.percent * 100) {
    return forward(standby!.cluster, 'dial');
  }
  const [best, reason] = pickTrade(eligibleTrade, standings, scoring.tieMs, ctx.random);
  const spill = ctx.overflow !== undefined ? ctx.overflow.overflowing(route.index, best.index) : overflows(route, best, ctx.snapshot);
  if (standbyEligible && spill) return forward(standby!.cluster, 'overflow');
  const sticky = request.affinityCluster === undefined ? undefined
    : eligibleTrade.find((c) => c.cluster.name === request.affinityCluster);
  if (sticky !== undefined) return forward(sticky.cluster, 'affinity');
  return forward(best, reason);
}

/** Lowest cost wins; clusters within tieMs share by weight, scaled down while they slowly start. */
function pickTrade(eligible: readonly Candidate[], standings: readonly Standing[], tieMs: number,
  random: () => number): [RuntimeCluster, DecisionReason] {
  const bestCost = eligible[0].costMs!;
  const ramp = (c: Candidate) => standings.find((s) => s.cluster === c.cluster)?.rampFactor ?? 1;
  const tied = eligible.filter((c) => c.costMs! <= bestCost + tieMs);
  const chosen = tied.length === 1 ? tied[0] : weightedPick(tied, tied.map((c) => c.cluster.weight * ramp(c)), random);
  if (chosen !== undefined && tied.length > 1) return [chosen.cluster, 'weighted tie'];
  // A lone best cluster that is slowly starting takes only its ramp's share; the rest goes next-best.
  const lone = chosen ?? tied[0];
  const factor = ramp(lone);
  if (factor < 1 && eligible.length > 1 && random() >= factor) return [eligible[1].cluster, 'slow start'];
  return [lone.cluster, 'lowest cost'];
}

function weightedPick<T>(items: readonly T[], weights: readonly number[], random: () => number): T | undefined {
  let total = 0;
  for (const w of weights) total += w;
  if (total <= 0) return undefined;
  let point = random() * total;
  for (let i = 0; i < items.length; i++) {
    point -= weights[i];
    if (point < 0) return items[i];
  }
  return items[items.length - 1];
}

/**
 * Eligible candidates cheapest first, ties in their configured order. A route has a handful of
 * clusters, and Array#sort took about 700 instructions to order two (counted with callgrind).
 */
function byCost(candidates: Candidate[]): Candidate[] {
  for (let i = 1; i < candidates.length; i++) {
    const c = candidates[i];
    let j = i - 1;
    for (; j >= 0 && candidates[j].costMs! > c.costMs!; j--) candidates[j + 1] = candidates[j];
    candidates[j + 1] = c;
  }
  return candidates;
}

function overflows(route: RuntimeRoute, cluster: RuntimeCluster, snapshot: FleetSnapshot): boolean {
  const limits = route.config.standby?.overflow;
  if (limits === undefined) return false;
  const view = snapshot.clusters.get(cluster.name);
  if (view === undefined) return false;
  return (limits.maxInflight !== undefined && view.inflight > limits.maxInflight)
    || (limits.latencyMs !== undefined && view.latencyMs > limits.latencyMs);
}

function candidateOf(s: Standing, reasons: readonly IneligibleReason[], geo: GeoInfo | undefined, ctx: DecisionContext): Candidate {
  const eligible = reasons.length === 0;
  const { kmPerMs, errorPenaltyMs } = ctx.runtime.config.scoring;
  const terms = eligible ? costTerms(geo, s.cluster, s.view, kmPerMs, errorPenaltyMs) : undefined;
  return { cluster: s.cluster, eligible, reasons, costMs: terms === undefined ? null : totalCost(terms), terms };
}
