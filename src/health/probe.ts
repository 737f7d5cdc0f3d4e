/**
 * One active health probe (SPEC §4): GET the health path with a deadline; 2xx and 3xx are healthy.
 * Probes use their own small connection pool, never the proxy's, so a saturated traffic pool cannot
 * make a healthy cluster look down (and probes never steal traffic connections).
 */
import { Agent, request } from 'undici';

/** The outcome of one probe. */
export interface ProbeResult {
  readonly ok: boolean;
  readonly status?: number;
  /** Error code or message when no response came back. */
  readonly error?: string;
}

/** Header naming the probing instance, so upstream logs show who probes (and tests can count probers). */
export const proberHeader = 'x-switchyard-prober';

const keepAliveMs = 4000;

/** The probe connection pool: one keep-alive connection per endpoint is plenty. */
export function createProbeAgent(): Agent {
  return new Agent({ connections: 1, keepAliveTimeout: keepAliveMs, keepAliveMaxTimeout: keepAliveMs });
}

/** Probes `url` once; never rejects. `signal` cancels it (stop, re-plan). */
export async function probeOnce(agent: Agent, url: string, instanceId: string, timeoutMs: number, signal: AbortSignal): Promise<ProbeResult> {
  try {
    const { statusCode, body } = await request(url, {
      method: 'GET',
      dispatcher: agent,
      headers: { [proberHeader]: instanceId, 'user-agent': 'switchyard-health' },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
    await body.dump();
    return { ok: statusCode >= 200 && statusCode < 400, status: statusCode };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { ok: false, error: e.code ?? e.name ?? 'Error' };
  }
}
