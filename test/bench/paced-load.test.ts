import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { runAutocannon } from '../../bench/load.ts';
import type { LoadRequest } from '../../bench/profiles.ts';

const RATE = 2000;
const CONNECTIONS = 20;
/** Enough distinct requests that autocannon spends a while building them before the run begins. */
const REQUESTS: LoadRequest[] = Array.from({ length: 40_000 }, (_, i) => ({
  method: 'GET', path: `/items/${i}`, headers: { 'x-forwarded-for': `198.51.100.${i % 250}` },
}));

describe('paced load (bench/load.ts)', () => {
  let server: Server;
  let url: string;
  let arrivalsMs: number[] = [];

  before(async () => {
    server = createServer((req, res) => {
      arrivalsMs.push(performance.now());
      req.resume();
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('begins its schedule once every connection is set up, without a catch-up burst', async () => {
    arrivalsMs = [];
    const result = await runAutocannon({
      url, requests: REQUESTS, connections: CONNECTIONS, durationSeconds: 2, overallRate: RATE, title: 'paced', progressBar: false,
    });
    assert.equal(result.failures, 0);
    const first = arrivalsMs[0];
    const early = arrivalsMs.filter((at) => at - first < 50).length;
    // Evenly paced, the first 50 ms carry 100 requests (RATE / 20). A schedule begun while the
    // connections were still being set up sent each early connection's overdue requests at once (up to
    // 100 ms of them): 300 and more.
    assert.ok(early <= 2 * RATE / 20, `${early} requests in the first 50 ms (paced: ${RATE / 20})`);
  });

  it('leaves the settling seconds out of the rate and the latency it reports', async () => {
    arrivalsMs = [];
    const result = await runAutocannon({
      url, requests: REQUESTS.slice(0, 1000), connections: CONNECTIONS, durationSeconds: 1, settleSeconds: 1,
      overallRate: RATE, title: 'settled', progressBar: false,
    });
    // Two seconds were sent at RATE; the rate over the measured second is RATE, not 2 × RATE.
    assert.ok(arrivalsMs.length > 1.5 * RATE, `${arrivalsMs.length} requests sent over settle + measured time`);
    assert.ok(result.requestsPerSecond > 0.8 * RATE && result.requestsPerSecond < 1.2 * RATE, `measured ${result.requestsPerSecond} req/s`);
  });
});
