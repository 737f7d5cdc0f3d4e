import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createSecureServer } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startUpstream } from '../helpers/upstream.ts';
import { gatewayConfig, spawnSwitchyard } from '../helpers/switchyard.ts';

interface Seen {
  readonly httpVersion: string;
  readonly alpn: string | false | null;
  readonly rawHeaders: string[];
}

/** An https upstream on 127.0.0.1 offering h2 and http/1.1 (ALPN), with a fresh self-signed certificate. */
async function startH2CapableUpstream(t: TestContext): Promise<{ url: string; certFile: string; seen: Seen[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-h2-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const [keyFile, certFile] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile,
    '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const seen: Seen[] = [];
  const server = createSecureServer({ key: await readFile(keyFile), cert: await readFile(certFile), allowHTTP1: true }, (req, res) => {
    if (req.url !== '/healthz') seen.push({ httpVersion: req.httpVersion, alpn: (req.socket as TLSSocket).alpnProtocol, rawHeaders: req.rawHeaders });
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  // An https server's close() waits for every connection, and the gateway's pools and health
  // checks keep theirs open (and open new ones) while it runs: end them here.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
  }));
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, certFile, seen };
}

test('an https upstream that offers h2 is spoken to in HTTP/1.1, header names as the client spelt them', async (t) => {
  const primary = await startH2CapableUpstream(t);
  const other = await startUpstream(t, 'other');
  const config = gatewayConfig({ east: primary.url, south: other.url, standby: other.url });
  // The test is about the protocol: a TLS handshake slowed by a loaded machine must not turn the
  // webhook into a 503 (connect timeout 1 s by default).
  config.clusters['trade-east'] = { ...config.clusters['trade-east'], timeouts: { connectMs: 10_000 } };
  const sy = await spawnSwitchyard(t, config, { NODE_EXTRA_CA_CERTS: primary.certFile });
  const body = '{"trade_no":"2026120722001"}';
  const answer = await request(`${sy.trafficUrl}/webhooks/payment/alipay`, {
    method: 'POST', body, headers: { 'content-type': 'application/json', 'X-Alipay-Signature': 'sig-Value' },
  });
  const answerBody = await answer.body.text();
  assert.equal(answer.statusCode, 200, `${answerBody}\n${sy.stderr()}`);
  assert.equal(primary.seen.length, 1, JSON.stringify(primary.seen));
  const [seen] = primary.seen;
  // undici offers h2 through ALPN unless told not to; over h2 every header name is lower case.
  assert.equal(seen.alpn, 'http/1.1');
  assert.equal(seen.httpVersion, '1.1');
  assert.ok(seen.rawHeaders.includes('X-Alipay-Signature'), `header names as seen upstream: ${seen.rawHeaders.filter((_, i) => i % 2 === 0).join(', ')}`);
});
