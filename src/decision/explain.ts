/**
 * Renders a decision as SPEC §7 shows it, for `switchyard explain` and `GET /api/explain`. It renders
 * what `decide()` returned; it never decides anything itself.
 */
import type { GeoInfo } from '../geo/types.ts';
import type { Decision } from './decide.ts';

/** The JSON shape of an explained decision. */
export interface Explanation {
  route: string | null;
  action: Decision['action'];
  cluster?: string;
  error?: string;
  retryAfterSeconds?: number;
  reason: string;
  panic: boolean;
  client: { ip: string; country?: string; subdivision?: string; continent?: string };
  dial?: { percent: number; source: string; schedule?: string; expiresAt?: string };
  candidates: {
    cluster: string; role: string; eligible: boolean; reasons: string[]; costMs: number | null;
    terms?: { rttMs: number; latencyMs: number; errorPenaltyMs: number };
  }[];
  fallbacks?: string[];
}

/** Turns a decision into its explanation. */
export function explainDecision(decision: Decision, clientIp: string, geo: GeoInfo | undefined): Explanation {
  const out: Explanation = {
    route: decision.route?.name ?? null,
    action: decision.action,
    reason: decision.reason,
    panic: decision.panic,
    client: { ip: clientIp, country: geo?.country, subdivision: geo?.subdivision, continent: geo?.continent },
    candidates: decision.candidates.map((c) => ({
      cluster: c.cluster.name,
      role: c.cluster.role,
      eligible: c.eligible,
      reasons: [...c.reasons],
      costMs: c.costMs,
      ...(c.terms === undefined ? {} : { terms: { ...c.terms } }),
    })),
  };
  if (decision.action === 'reject') {
    out.error = decision.error;
    if (decision.retryAfterSeconds !== undefined) out.retryAfterSeconds = decision.retryAfterSeconds;
  } else {
    out.cluster = decision.cluster.name;
  }
  if (decision.action === 'forward' && decision.fallbacks.length > 0) out.fallbacks = decision.fallbacks.map((c) => c.name);
  if (decision.dial !== undefined) {
    const { percent, source, schedule, expiresAtMs } = decision.dial;
    out.dial = { percent, source, ...(schedule === undefined ? {} : { schedule }),
      ...(expiresAtMs === undefined ? {} : { expiresAt: new Date(expiresAtMs).toISOString() }) };
  }
  return out;
}
