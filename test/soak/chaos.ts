/**
 * Chaos soak (not part of `npm test`; `chaos-short.test.ts` runs 20 s of it):
 *
 *   node test/soak/chaos.ts [--duration 10m] [--seed 1] [--get-rate 300] [--webhook-rate 30] [--keep-logs]
 *
 * A redis-server, recording cluster endpoints and two gateway processes sharing state, under autocannon
 * load (storefront GETs, payment webhook POSTs) while clusters and Redis are killed and revived, the
 * standby dial is flipped through the admin API and configs are rewritten and reloaded with SIGHUP
 * (sometimes broken). Invariants: no webhook reaches a non-primary cluster; no GET fails unless every
 * cluster was down (plus the time to notice the recovery); no gateway exits before it is told to, and each
 * exits 0 on SIGTERM; every broken reload is refused; each gateway's RSS stays flat after warm-up.
 * Prints a summary table and exits 1 when an invariant was violated.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon, { type Request, type Result } from 'autocannon';
import { seededRandom } from '../hardening/config-mutations.ts';
import { adminToken, brokenConfig, chaosConfig, primary, recoveryGraceMs, type ClusterEndpoints } from './chaos-config.ts';
import { freePort, isRunning, killAll, RecordingEndpoint, rssBytes, startGateway, startRedis, stopChild, type GatewayProcess } from './fleet.ts';
import { Blackouts, GetTally, MemoryTrack, WebhookTally } from './invariants.ts';

const { values } = parseArgs({ options: {
  duration: { type: 'string', default: '10m' }, seed: { type: 'string', default: '1' },
  'get-rate': { type: 'string', default: '300' }, 'webhook-rate': { type: 'string', default: '30' },
  'keep-logs': { type: 'boolean', default: false },
} });
const durationMs = parseDuration(values.duration);
const random = seededRandom(Number(values.seed));
/** Calm at both ends: load settles before the first event, and recovery is watched after the last. */
const warmupMs = Math.min(30_000, Math.max(3000, durationMs * 0.05));
const cooldownMs = recoveryGraceMs + 2000;
/**
 * RSS is compared from here on. Under this load V8's heap takes about 100 s to reach its working size
 * (measured: RSS 260 → 330 MB, then flat for the rest of a 10 min run), so only runs with a minute
 * of samples past that are held to the flat bound; shorter ones are only checked for a runaway.
 */
const rssJudged = durationMs >= 150_000;
const rssWarmupMs = rssJudged ? Math.max(90_000, durationMs * 0.1) : durationMs * 0.25;
const rssAllowedGrowth = rssJudged ? 0.1 : 0;
const rssAllowedBytes = rssJudged ? 24e6 : 150e6;
const clusterNames = ['trade-east', 'trade-south', 'promo-standby'] as const;
const loadTimeoutSeconds = 5;

const dir = mkdtempSync(join(tmpdir(), 'switchyard-chaos-'));
let keepLogs = values['keep-logs'];
process.on('exit', () => {
  killAll();
  if (!keepLogs) rmSync(dir, { recursive: true, force: true });
});
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));
// However the run goes, it ends: a hung step must not keep CI waiting.
setTimeout(() => {
  process.stderr.write('chaos: hard deadline passed\n');
  process.exit(1);
}, durationMs + 120_000).unref();

/** The run's clock starts with the load, once every part is up. */
let t0 = performance.now();
const now = () => performance.now() - t0;
const blackouts = new Blackouts(recoveryGraceMs);
const gets = new GetTally(blackouts);
const webhooks = new WebhookTally(primary);
const events = new Map<string, number>();
const count = (name: string) => events.set(name, (events.get(name) ?? 0) + 1);
const say = (line: string) => process.stdout.write(`[${(now() / 1000).toFixed(1).padStart(6)} s] ${line}\n`);

async function main(): Promise<number> {
  const redisPort = await freePort();
  let redis = await startRedis(redisPort);
  const endpoints: Record<string, RecordingEndpoint[]> = {};
  for (const [name, n] of [['trade-east', 2], ['trade-south', 1], ['promo-standby', 1]] as const) {
    endpoints[name] = await Promise.all(Array.from({ length: n }, async () => new RecordingEndpoint(name, await freePort())));
    for (const endpoint of endpoints[name]) await endpoint.start();
  }
  const urls = Object.fromEntries(clusterNames.map((c) => [c, endpoints[c].map((e) => e.url)])) as ClusterEndpoints;
  const gateways: GatewayProcess[] = [];
  const configOf = new Map<string, (dial: number) => string>();
  for (const id of ['chaos-1', 'chaos-2']) {
    const ports = { traffic: await freePort(), admin: await freePort(), redis: redisPort };
    const file = join(dir, `${id}.yaml`);
    configOf.set(id, (dial) => chaosConfig(ports, urls, dial));
    writeFileSync(file, configOf.get(id)!(0));
    gateways.push(await startGateway(id, file, dir, ports));
  }
  let stopping = false;
  const crashes: string[] = [];
  for (const gw of gateways) gw.child.once('exit', (code, signal) => { if (!stopping) crashes.push(`${gw.id} exited ${code ?? signal}`); });
  say(`2 gateways, redis :${redisPort}, clusters ${clusterNames.join(', ')}; ${values.duration}, seed ${values.seed}; logs in ${dir}`);

  t0 = performance.now();
  const rss = new Map(gateways.map((gw) => [gw.id, new MemoryTrack()]));
  const heap = new Map(gateways.map((gw) => [gw.id, new MemoryTrack()]));
  const sampler = setInterval(() => {
    for (const gw of gateways) {
      void rssBytes(gw.child.pid!).then((bytes) => bytes !== undefined && rss.get(gw.id)!.add(now(), bytes));
      void heapUsedBytes(gw).then((bytes) => bytes !== undefined && heap.get(gw.id)!.add(now(), bytes));
    }
  }, 1000);
  const progress = setInterval(() => say(`progress: GETs ${gets.ok} ok, ${gets.excused} excused, ${gets.violations} violations; `
    + gateways.map((gw) => `${gw.id} rss ${mb(rss.get(gw.id)!.samples.at(-1)?.bytes)} heap ${mb(heap.get(gw.id)!.samples.at(-1)?.bytes)} MB`).join(', ')),
  Math.max(15_000, durationMs / 12));
  const loads = gateways.flatMap((gw) => [getLoad(gw), webhookLoad(gw)]);

  const down = new Set<string>();
  let redisUp = true;
  let brokenReloads = 0;
  const setCluster = async (name: string, up: boolean) => {
    await Promise.all(endpoints[name].map((e) => (up ? e.start() : e.kill())));
    if (up) down.delete(name);
    else down.add(name);
  };
  const reload = async (broken: boolean) => {
    const dial = Math.floor(random() * 31);
    for (const gw of gateways) {
      const valid = configOf.get(gw.id)!(dial);
      writeFileSync(gw.configFile, broken ? brokenConfig(valid, brokenReloads) : valid);
      gw.child.kill('SIGHUP');
    }
    if (broken) brokenReloads++;
    return broken ? `broken reload #${brokenReloads}` : `reload with dial ${dial}`;
  };
  const chaos: { name: string; weight: number; when: () => boolean; run: () => Promise<string> }[] = [
    { name: 'kill cluster', weight: 3, when: () => down.size === 0, run: async () => {
      const name = clusterNames[Math.floor(random() * clusterNames.length)];
      await setCluster(name, false);
      return `kill ${name}`;
    } },
    { name: 'revive cluster', weight: 3, when: () => down.size > 0, run: async () => {
      const name = [...down][0];
      await setCluster(name, true);
      return `revive ${name}`;
    } },
    { name: 'blackout', weight: 0.6, when: () => down.size === 0, run: async () => {
      blackouts.begin(now());
      await Promise.all(clusterNames.map((c) => setCluster(c, false)));
      const lengthMs = 2000 + random() * 2000;
      say(`blackout: every cluster down for ${(lengthMs / 1000).toFixed(1)} s`);
      await sleep(lengthMs);
      await Promise.all(clusterNames.map((c) => setCluster(c, true)));
      blackouts.end(now());
      return 'blackout over: every cluster revived';
    } },
    { name: 'kill redis', weight: 1, when: () => redisUp, run: async () => {
      await stopChild(redis, 'SIGKILL', 1000);
      redisUp = false;
      return 'kill redis';
    } },
    { name: 'revive redis', weight: 2, when: () => !redisUp, run: async () => {
      redis = await startRedis(redisPort);
      redisUp = true;
      return 'revive redis (empty)';
    } },
    { name: 'dial', weight: 2, when: () => true, run: () => flipDial(gateways[Math.floor(random() * gateways.length)]) },
    { name: 'reload', weight: 1.5, when: () => true, run: () => reload(false) },
    { name: 'broken reload', weight: 1, when: () => true, run: () => reload(true) },
  ];
  // Every kind of event happens early in every run (a short CI run included); random ones follow.
  const tour = ['kill cluster', 'revive cluster', 'blackout', 'dial', 'broken reload', 'kill redis', 'reload', 'revive redis'];
  const [minGapMs, gapSpreadMs] = durationMs < 60_000 ? [300, 500] : [1000, 2500];
  await sleep(warmupMs);
  while (now() < durationMs - cooldownMs) {
    const possible = chaos.filter((c) => c.when());
    let pick = random() * possible.reduce((sum, c) => sum + c.weight, 0);
    const next = tour.shift();
    const event = possible.find((c) => c.name === next) ?? possible.find((c) => (pick -= c.weight) < 0) ?? possible[0];
    count(event.name);
    say(await event.run());
    await sleep(minGapMs + random() * gapSpreadMs);
  }
  if (down.size > 0) say(`revive ${[...down].join(', ')}`);
  await Promise.all([...down].map((c) => setCluster(c, true)));
  if (!redisUp) redis = await startRedis(redisPort);
  say('chaos over; every part up, watching recovery');
  const results = await Promise.all(loads);
  clearInterval(sampler);
  clearInterval(progress);

  stopping = true;
  const exitCodes = await Promise.all(gateways.map((gw) => stopChild(gw.child, 'SIGTERM', 15_000)));
  await stopChild(redis, 'SIGTERM', 2000);
  const rejectedReloads = gateways.map((gw) => countLines(gw.logFile, 'config reload rejected'));
  const strayWebhooks = clusterNames.filter((c) => c !== primary).flatMap((c) => endpoints[c]).reduce((n, e) => n + e.webhooks, 0);
  const rows: [string, string, boolean][] = [
    ['GETs answered 200', `${gets.ok}`, gets.ok > 0],
    ['GETs failed during blackouts (excused)', `${gets.excused} (${blackouts.count} blackouts, grace ${recoveryGraceMs} ms)`, true],
    ['slowest recovery: every cluster back → last GET failure', `${blackouts.slowestRecoveryMs.toFixed(0)} ms`, true],
    ['GETs failed with a cluster up', `${gets.violations}${gets.samples.length ? `: ${gets.samples.slice(0, 5).join(', ')}` : ''}`, gets.violations === 0],
    ['webhooks 200 from the primary', `${webhooks.ok}`, webhooks.ok > 0],
    ['webhooks refused by the gateway', `${webhooks.refused} ${JSON.stringify(Object.fromEntries(webhooks.statuses))}`, true],
    ['webhooks client errors', `${webhooks.errors}`, true],
    ['webhooks answered by a non-primary', `${webhooks.wrongCluster}`, webhooks.wrongCluster === 0],
    ['webhooks received by non-primary endpoints', `${strayWebhooks}`, strayWebhooks === 0],
    ['gateway exits before SIGTERM', crashes.join('; ') || '0', crashes.length === 0],
    ['gateway exit codes on SIGTERM', exitCodes.join(', '), exitCodes.every((c) => c === 0)],
    ['broken reloads refused (per gateway)', `${rejectedReloads.join(', ')} of ${brokenReloads}`, rejectedReloads.every((n) => n === brokenReloads)],
    ['events', JSON.stringify(Object.fromEntries(events)), true],
    ['load (requests per instance)', results.map((r) => `${r.requests.total}`).join(', '), true],
  ];
  for (const gw of gateways) {
    const v = rss.get(gw.id)!.verdict(rssWarmupMs, rssAllowedGrowth, rssAllowedBytes);
    rows.push([`RSS ${gw.id} after warm-up: start → end (max) MB`, `${v.startMB} → ${v.endMB} (${v.maxMB}); bound ${rssJudged ? `+${rssAllowedGrowth * 100}% or ` : 'runaway only (short run): '}+${rssAllowedBytes / 1e6} MB`, v.flat]);
    const h = heap.get(gw.id)!.verdict(rssWarmupMs, rssAllowedGrowth, rssAllowedBytes);
    rows.push([`V8 heap used ${gw.id}: start → end (max) MB`, `${h.startMB} → ${h.endMB} (${h.maxMB})`, true]);
  }
  printTable(rows);
  const ok = rows.every(([, , pass]) => pass);
  if (!ok) keepLogs = true;
  process.stdout.write(ok ? 'chaos: every invariant held\n' : `chaos: INVARIANT VIOLATED (logs kept in ${dir})\n`);
  return ok ? 0 : 1;
}

function getLoad(gw: GatewayProcess): Promise<Result> {
  const requests: Request[] = [
    { method: 'GET', path: '/products/42', headers: { 'x-forwarded-for': '202.96.128.86' } },
    { method: 'GET', path: '/cart', headers: { 'x-forwarded-for': '223.5.5.5' } },
    { method: 'GET', path: '/' },
  ];
  const instance = autocannon({ url: `http://127.0.0.1:${gw.trafficPort}`, connections: 8, duration: durationMs / 1000,
    overallRate: Number(values['get-rate']), timeout: loadTimeoutSeconds, requests });
  instance.on('response', (_client: unknown, status: number, _bytes: number, responseTimeMs: number) => gets.record(status, now(), responseTimeMs));
  instance.on('reqError', (err: Error & { code?: string }) => gets.record(err.code ?? err.message, now(), loadTimeoutSeconds * 1000));
  return new Promise((resolve, reject) => instance.then(resolve, reject));
}

function webhookLoad(gw: GatewayProcess): Promise<Result> {
  const request = {
    method: 'POST', path: '/webhooks/payment/alipay', headers: { 'content-type': 'application/json' }, body: '{"order":42,"amount":"9.99"}',
    onResponse: (status: number, _body: string, _context: unknown, headers: Record<string, string>) =>
      webhooks.record(status, headers['x-switchyard-cluster']),
  };
  const instance = autocannon({ url: `http://127.0.0.1:${gw.trafficPort}`, connections: 2, duration: durationMs / 1000,
    overallRate: Number(values['webhook-rate']), timeout: loadTimeoutSeconds, requests: [request] });
  instance.on('reqError', () => webhooks.errors++);
  return new Promise((resolve, reject) => instance.then(resolve, reject));
}

/** A fleet-wide dial override (or clearing it) through one gateway's admin API. */
async function flipDial(gw: GatewayProcess): Promise<string> {
  const url = `http://127.0.0.1:${gw.adminPort}/api/routes/storefront/dial`;
  const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  const clear = random() < 0.3;
  const percent = Math.floor(random() * 51);
  const res = await fetch(url, clear ? { method: 'DELETE', headers } : { method: 'PUT', headers, body: JSON.stringify({ percent, ttlSeconds: 30 }) })
    .catch((err: Error) => ({ status: err.message }));
  return `${clear ? 'clear dial' : `dial ${percent}%`} via ${gw.id}: ${res.status}`;
}

/** `nodejs_heap_size_used_bytes` from the gateway's /metrics (prom-client's Node defaults). */
async function heapUsedBytes(gw: GatewayProcess): Promise<number | undefined> {
  const text = await fetch(`http://127.0.0.1:${gw.adminPort}/metrics`).then((r) => r.text(), () => '');
  const match = /^nodejs_heap_size_used_bytes (\S+)$/m.exec(text);
  return match === null ? undefined : Number(match[1]);
}

function mb(bytes: number | undefined): string {
  return bytes === undefined ? '?' : (bytes / 1e6).toFixed(0);
}

function countLines(file: string, text: string): number {
  return readFileSync(file, 'utf8').split('\n').filter((line) => line.includes(text)).length;
}

function printTable(rows: [string, string, boolean][]): void {
  const width = Math.max(...rows.map(([name]) => name.length));
  process.stdout.write(`\n${'check'.padEnd(width)} | ok | value\n${'-'.repeat(width)}-|----|------\n`);
  for (const [name, value, pass] of rows) process.stdout.write(`${name.padEnd(width)} | ${pass ? 'ok' : 'NO'} | ${value}\n`);
}

function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (match === null) throw new Error(`--duration must look like 20s, 10m or 1h, not "${text}"`);
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().then((code) => process.exit(code), (err: unknown) => {
  keepLogs = true;
  process.stderr.write(`chaos: ${err instanceof Error ? err.stack : String(err)}\n(logs in ${dir})\n`);
  process.exit(1);
});
