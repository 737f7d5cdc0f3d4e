/**
 * Demo clusters for `npm run demo`: one tiny HTTP server per local endpoint in the config, answering
 * with the cluster, region and endpoint that served the request and the geo headers the gateway
 * added, so a newcomer can see where each request landed.
 */
import { createServer, type Server } from 'node:http';
import type { Config } from '../config/schema.ts';

/** A running demo endpoint. */
export interface DemoEndpoint {
  readonly cluster: string;
  readonly url: string;
  readonly server: Server;
}

/** Starts a server for every endpoint of the config that points at this machine. */
export async function startDemoClusters(config: Config): Promise<DemoEndpoint[]> {
  const started: DemoEndpoint[] = [];
  for (const [name, cluster] of Object.entries(config.clusters)) {
    for (const endpoint of cluster.endpoints) {
      const url = new URL(endpoint);
      if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost' && url.hostname !== '[::1]') continue;
      const server = createServer((req, res) => {
        if (req.url === cluster.healthCheck.path) {
          res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
          return;
        }
        req.resume();
        req.on('end', () => {
          const body = JSON.stringify({
            cluster: name, region: cluster.region, role: cluster.role, endpoint: url.origin,
            method: req.method, path: req.url,
            geo: { country: req.headers['x-geo-country'], subdivision: req.headers['x-geo-subdivision'], continent: req.headers['x-geo-continent'] },
            forwardedFor: req.headers['x-forwarded-for'], requestId: req.headers['x-request-id'],
          });
          res.writeHead(200, { 'content-type': 'application/json' }).end(`${body}\n`);
        });
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(Number(url.port || 80), url.hostname.replace(/^\[|\]$/g, ''), resolve);
      });
      started.push({ cluster: name, url: url.origin, server });
    }
  }
  return started;
}

/** Stops every demo endpoint. */
export async function stopDemoClusters(endpoints: readonly DemoEndpoint[]): Promise<void> {
  await Promise.all(endpoints.map((e) => new Promise<void>((resolve) => {
    e.server.closeAllConnections();
    e.server.close(() => resolve());
  })));
}
