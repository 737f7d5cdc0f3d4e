/**
 * What the bench sends: the traffic profiles of the performance issue, built once per run.
 * (a) small GETs from 10,000 distinct client addresses carried in X-Forwarded-For, (b) 16 KiB POSTs,
 * (c) pinned payment webhooks with a signature header, (d) the GETs again at a fixed rate.
 */
import { createHmac } from 'node:crypto';

/** One request as the load generators send it. */
export interface LoadRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer;
}

/** Profile ids, in the order rows are reported (`--profiles` takes them). */
export const PROFILE_IDS = ['get', 'get-wrk', 'post', 'webhook', 'rate'] as const;
export type ProfileId = (typeof PROFILE_IDS)[number];

/** A traffic profile: the request sequence and the tool that sends it. */
export interface Profile {
  readonly id: ProfileId;
  readonly label: string;
  readonly tool: 'autocannon' | 'wrk';
  readonly requests: readonly LoadRequest[];
}

/** Distinct client addresses in the GET profile (SPEC §2.1, §2.2: XFF, then a geo lookup each). */
export const CLIENT_ADDRESS_COUNT = 10_000;
const POST_BODY_BYTES = 16 * 1024;
const WEBHOOK_BODY_BYTES = 2 * 1024;
const WEBHOOK_SECRET = 'bench-webhook-secret';
const ADDRESS_SEED = 0x5eed;
const PAYMENT_PROVIDER_ADDRESS = '110.75.142.10';
/** First octets that are wholly or partly private, reserved, shared or test ranges, and multicast+. */
const NON_PUBLIC_FIRST_OCTETS = new Set([0, 10, 100, 127, 169, 172, 192, 198, 203]);
const LAST_UNICAST_FIRST_OCTET = 223;

/** A small seeded generator (mulberry32), so every run sends the same addresses. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** `count` distinct public-looking IPv4 addresses spread over every public /8. */
export function clientAddresses(count: number, seed = ADDRESS_SEED): string[] {
  const firstOctets: number[] = [];
  for (let octet = 1; octet <= LAST_UNICAST_FIRST_OCTET; octet++) {
    if (!NON_PUBLIC_FIRST_OCTETS.has(octet)) firstOctets.push(octet);
  }
  const random = seededRandom(seed);
  const byte = (from: number) => from + Math.floor(random() * (255 - from));
  const addresses = new Set<string>();
  while (addresses.size < count) {
    const first = firstOctets[Math.floor(random() * firstOctets.length)];
    addresses.add(`${first}.${byte(0)}.${byte(0)}.${byte(1)}`);
  }
  return [...addresses];
}

function storefrontGets(addresses: readonly string[]): LoadRequest[] {
  return addresses.map((address) => ({
    method: 'GET', path: '/catalog/items/42', headers: { 'x-forwarded-for': address },
  }));
}

function cartUpload(): LoadRequest {
  const body = Buffer.alloc(POST_BODY_BYTES, 'switchyard-bench-');
  return { method: 'POST', path: '/api/cart/items', headers: { 'content-type': 'application/octet-stream' }, body };
}

/** A payment notification of WEBHOOK_BODY_BYTES, signed like providers sign theirs (HMAC-SHA256). */
function paymentWebhook(): LoadRequest {
  const event = {
    id: 'evt_3QbEnchWebhook', type: 'payment.succeeded', created: 1795651200,
    data: { orderId: 'ord_20261111_000042', amount: 129900, currency: 'CNY', note: '' },
  };
  const unpadded = Buffer.byteLength(JSON.stringify(event));
  event.data.note = 'x'.repeat(Math.max(0, WEBHOOK_BODY_BYTES - unpadded));
  const body = Buffer.from(JSON.stringify(event));
  const timestamp = String(event.created);
  const signature = createHmac('sha256', WEBHOOK_SECRET).update(`${timestamp}.`).update(body).digest('hex');
  return {
    method: 'POST', path: '/webhooks/payment/alipay/notify', body,
    headers: {
      'content-type': 'application/json', 'x-forwarded-for': PAYMENT_PROVIDER_ADDRESS,
      'x-payment-signature': `t=${timestamp},v1=${signature}`,
    },
  };
}

/** Every profile; `withWrk` adds the wrk GET profile. */
export function buildProfiles(withWrk: boolean): Profile[] {
  const gets = storefrontGets(clientAddresses(CLIENT_ADDRESS_COUNT));
  const profiles: Profile[] = [
    { id: 'get', label: 'GET small, 10k client IPs', tool: 'autocannon', requests: gets },
    { id: 'post', label: 'POST 16 KiB', tool: 'autocannon', requests: [cartUpload()] },
    { id: 'webhook', label: 'POST webhook 2 KiB (pinned)', tool: 'autocannon', requests: [paymentWebhook()] },
    { id: 'rate', label: 'GET at ½ of its max rate', tool: 'autocannon', requests: gets },
  ];
  if (withWrk) profiles.splice(1, 0, { id: 'get-wrk', label: 'GET small, 10k client IPs (wrk)', tool: 'wrk', requests: gets });
  return profiles;
}
