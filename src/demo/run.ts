/**
 * `npm run demo`: starts the demo clusters and the gateway on `config/switchyard.yaml` (in-memory
 * state, bundled GeoLite2 database) and prints the curl commands that show geo routing at work.
 * `--self-test` sends those requests itself, prints where each landed and exits (0 when all landed
 * where expected).
 */
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../config/load.ts';
import { buildRuntimeConfig } from '../config/runtime.ts';
import { formatConfigIssue } from '../errors.ts';
import { createLogger } from '../log/logger.ts';
import { Switchyard } from '../server.ts';
import { disableAllocationSitePretenuring } from '../pretenuring.ts';
import { startDemoClusters, stopDemoClusters } from './clusters.ts';

/** The demo's example clients: where they are, and where the demo config should send them. */
export const demoExamples = [
  { what: 'Guangzhou, Guangdong (CN-GD)', ip: '202.96.128.86', method: 'GET', path: '/products/42', expect: 'trade-south' },
  { what: 'Hangzhou, Zhejiang (CN-ZJ)', ip: '223.5.5.5', method: 'GET', path: '/products/42', expect: 'trade-east' },
  { what: 'London (nearest region by distance)', ip: '217.138.0.1', method: 'GET', path: '/', expect: 'trade-east' },
  { what: 'Payment webhook from anywhere (pinned)', ip: '202.96.128.86', method: 'POST', path: '/webhooks/payment/alipay', expect: 'trade-east' },
] as const;

async function main(): Promise<number> {
  // As `switchyard start` does (src/main.ts), before the gateway is built: see pretenuring.ts.
  disableAllocationSitePretenuring();
  const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' }, 'self-test': { type: 'boolean' } } });
  const loaded = await loadConfigFile(values.config ?? 'config/switchyard.yaml');
  if (!loaded.ok) {
    for (const issue of loaded.issues) process.stderr.write(`${formatConfigIssue(issue)}\n`);
    return 1;
  }
  const clusters = await startDemoClusters(loaded.config);
  const logger = createLogger({ level: values['self-test'] ? 'warn' : loaded.config.log.level, destination: 2 });
  const switchyard = await Switchyard.create(buildRuntimeConfig(loaded.config, loaded.file), { logger, instanceId: 'demo' });
  const { trafficPort, adminPort } = await switchyard.start();
  const base = `http://127.0.0.1:${trafficPort}`;
  const stop = async () => {
    await switchyard.close();
    await stopDemoClusters(clusters);
  };
  if (values['self-test']) {
    const ok = await selfTest(base);
    await stop();
    return ok ? 0 : 1;
  }
  process.stdout.write(banner(base, adminPort, loaded.config.admin.token !== '', clusters.length));
  const shutdown = () => void stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  return -1;
}

function banner(base: string, adminPort: number, hasToken: boolean, endpoints: number): string {
  const lines = [
    '', `Switchyard demo: gateway on ${base}, admin on http://127.0.0.1:${adminPort}, ${endpoints} demo endpoints.`,
    'Pretend to be a client anywhere (the demo trusts X-Forwarded-For from localhost):', '',
  ];
  for (const e of demoExamples) {
    const post = e.method === 'POST' ? ` -X POST -H 'content-type: application/json' -d '{"event":"paid"}'` : '';
    lines.push(`  # ${e.what} → ${e.expect}`);
    lines.push(`  curl -s${post} -H 'X-Forwarded-For: ${e.ip}' ${base}${e.path}`, '');
  }
  lines.push('Why a request went where it went:');
  const auth = hasToken ? ` -H 'Authorization: Bearer demo-admin-token'` : '';
  lines.push(`  curl -s${auth} 'http://127.0.0.1:${adminPort}/api/explain?ip=202.96.128.86&path=/products/42'`);
  lines.push(`  node src/main.ts explain --ip 217.138.0.1 --path /`, '');
  lines.push(`Status page: http://127.0.0.1:${adminPort}/   Metrics: http://127.0.0.1:${adminPort}/metrics`, 'Ctrl-C stops everything.', '');
  return lines.join('\n');
}

async function selfTest(base: string): Promise<boolean> {
  let ok = true;
  for (const e of demoExamples) {
    const res = await fetch(`${base}${e.path}`, {
      method: e.method, headers: { 'x-forwarded-for': e.ip, 'content-type': 'application/json' },
      body: e.method === 'POST' ? '{"event":"paid"}' : undefined,
    });
    const cluster = res.headers.get('x-switchyard-cluster');
    const body = await res.json() as { geo?: object };
    const landed = cluster === e.expect && res.status === 200;
    ok &&= landed;
    process.stdout.write(`${landed ? 'ok  ' : 'FAIL'} ${e.what}: ${e.method} ${e.path} from ${e.ip} → ${res.status} ${cluster} ${JSON.stringify(body.geo)}\n`);
  }
  return ok;
}

main().then((code) => {
  if (code !== -1) process.exit(code);
}, (err: unknown) => {
  process.stderr.write(`demo: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
