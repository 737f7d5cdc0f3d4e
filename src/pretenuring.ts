/**
 * Keeps V8 from allocating per-request objects straight into the old generation.
 *
 * V8 watches each object-literal and array-literal site (`{ … }`, `[]`): when at least 85 % of a
 * site's recent objects survive a young-generation collection (a scavenge), optimised code starts
 * allocating that site's objects in the old generation ("pretenuring"). A gateway fools the heuristic:
 * - At start-up nearly everything allocated is kept (config, pools, metrics, apps), so sites that
 *   also run once per request (Node's stream and event-emitter literals, undici's header arrays) are
 *   judged long-lived before the first request arrives.
 * - An old object is only freed by a full collection, and until then whatever young object it
 *   points at survives every scavenge. A pretenured per-request object keeps its request's young
 *   objects alive; they survive, so their sites get pretenured too, and the cascade feeds itself.
 * Measured with `--trace-gc-nvp` at a fixed rate (2 KiB webhooks at 5,000 req/s, 2 KiB and 16 KiB
 * POSTs at 4,000 req/s), with the attempt handler's fix (proxy/exchange.ts) in place: 3.4-3.9 MB
 * survived each scavenge and each paused the event loop 10-13 ms; with pretenuring off, 0.6-1.0 MB
 * and 3-4.4 ms, the bare fastify + undici proxy's figures. Turning it off only during start-up was
 * not enough: 16 KiB POSTs started the cascade under load on their own. A proxy's per-request objects
 * are short-lived by design, and the few long-lived ones are promoted by the normal two-scavenge
 * rule, so the heuristic buys nothing here.
 *
 * It must run before the gateway's modules are loaded: a site's decision, once made, is kept.
 */
import { setFlagsFromString } from 'node:v8';

/** Turns V8's allocation-site pretenuring off for this process (the same as `node --no-allocation-site-pretenuring`). */
export function disableAllocationSitePretenuring(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}
