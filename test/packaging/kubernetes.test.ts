/**
 * The Kubernetes manifests agree with each other, with the Dockerfile and with the config they ship:
 * ports, probe paths, names, labels, secrets, the config mount and the shutdown grace period math.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { loadConfigText } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { parseRedisUrl } from '../../src/state/redis-url.ts';
import { instructionsOf, keyValues, parseDockerfile } from './dockerfile.ts';
import { at, manifestsDir, one, readManifests, type Container, type Probe } from './manifests.ts';
import { repoRoot } from './processes.ts';

const manifests = readManifests();
const deployment = one(manifests, 'Deployment');
const podSpec = at<Record<string, unknown>>(deployment, 'spec.template.spec');
const podLabels = at<Record<string, string>>(deployment, 'spec.template.metadata.labels');
const container = at<Container[]>(podSpec, 'containers')[0];
const configMap = one(manifests, 'ConfigMap');
const secret = one(manifests, 'Secret');
const secretData = at<Record<string, string>>(secret, 'stringData');
const fakeEnv = { SWITCHYARD_ADMIN_TOKEN: 'test-token', REDIS_URL: secretData['redis-url'] };
const productionPath = join(repoRoot, 'config/examples/production.yaml');
const envValue = (name: string) => container.env.find((e) => e.name === name);
const portNamed = (name: string | number) => container.ports.find((p) => p.name === name || p.containerPort === name);

function embeddedConfig(): Config {
  const [file, text] = Object.entries(at<Record<string, string>>(configMap, 'data'))[0];
  const loaded = loadConfigText(text, `configmap.yaml:${file}`, fakeEnv);
  assert.ok(loaded.ok, `the ConfigMap's config is valid: ${JSON.stringify(!loaded.ok && loaded.issues)}`);
  return loaded.config;
}

test('every manifest parses, and kustomization lists them all except the example Secret', () => {
  const kustomization = one(manifests, 'Kustomization');
  const resources = at<string[]>(kustomization, 'resources');
  for (const resource of resources) assert.ok(existsSync(join(manifestsDir, resource)), `${resource} exists`);
  const files = new Set(manifests.map((m) => m.file));
  files.delete('kustomization.yaml');
  files.delete('secret.example.yaml');
  assert.deepEqual([...files].sort(), [...resources].sort());
});

test('the ConfigMap holds config/examples/production.yaml verbatim and it passes the real validator', () => {
  assert.deepEqual(Object.values(at<Record<string, string>>(configMap, 'data')), [readFileSync(productionPath, 'utf8')]);
  const config = embeddedConfig();
  assert.equal(Object.keys(config.clusters).length, 3);
  assert.notEqual(config.state.redis, '', 'production shares state through Redis');
});

test('the production config refuses to start without the admin token and the Redis URL', () => {
  const loaded = loadConfigText(readFileSync(productionPath, 'utf8'), 'production.yaml', {});
  assert.ok(!loaded.ok);
  assert.deepEqual(loaded.issues.map((i) => i.path).sort(), ['admin.token', 'state.redis']);
});

test('container ports are the config ports, and both listeners are reachable from outside the pod', () => {
  const config = embeddedConfig();
  assert.equal(portNamed('http')?.containerPort, config.listen.port);
  assert.equal(portNamed('admin')?.containerPort, config.admin.port);
  assert.equal(config.listen.host, '0.0.0.0');
  assert.equal(config.admin.host, '0.0.0.0', 'kubelet probes and Prometheus come from outside the pod');
  const annotations = at<Record<string, string>>(deployment, 'spec.template.metadata.annotations');
  assert.equal(annotations['prometheus.io/port'], String(config.admin.port), 'Prometheus scrapes the admin port');
});

test('probes ask the admin port: readiness /readyz, liveness and startup /healthz', () => {
  const adminPort = embeddedConfig().admin.port;
  const probe = (p: Probe | undefined, path: string, what: string) => {
    assert.equal(p?.httpGet?.path, path, `${what} path`);
    assert.equal(portNamed(p!.httpGet!.port)?.containerPort, adminPort, `${what} port`);
  };
  probe(container.readinessProbe, '/readyz', 'readiness');
  probe(container.livenessProbe, '/healthz', 'liveness');
  if (container.startupProbe !== undefined) probe(container.startupProbe, '/healthz', 'startup');
});

test('the termination grace period outlasts preStop + readinessGraceMs + drainTimeoutMs', () => {
  const { readinessGraceMs, drainTimeoutMs } = embeddedConfig().shutdown;
  const preStop = container.lifecycle?.preStop;
  const sleepArg = preStop?.exec?.command.join(' ').match(/\bsleep\s+(\d+)/)?.[1];
  const preStopSeconds = preStop?.sleep?.seconds ?? Number(sleepArg ?? 0);
  const graceSeconds = at<number>(podSpec, 'terminationGracePeriodSeconds');
  assert.ok(graceSeconds > preStopSeconds + (readinessGraceMs + drainTimeoutMs) / 1000,
    `${graceSeconds}s > ${preStopSeconds}s + ${readinessGraceMs}ms + ${drainTimeoutMs}ms`);
});

test('the config is mounted as a directory at the path SWITCHYARD_CONFIG names, as in the Dockerfile', () => {
  const configPath = envValue('SWITCHYARD_CONFIG')?.value ?? '';
  const runtime = parseDockerfile(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8')).at(-1)!;
  const imageEnv = new Map(instructionsOf(runtime, 'ENV').flatMap((i) => [...keyValues(i.text)]));
  assert.equal(configPath, imageEnv.get('SWITCHYARD_CONFIG'));
  const volume = at<{ name: string; configMap?: { name: string } }[]>(podSpec, 'volumes').find((v) => v.configMap?.name === configMap.metadata.name);
  assert.ok(volume, 'a volume holds the ConfigMap');
  const mount = container.volumeMounts.find((m) => m.name === volume.name);
  assert.equal(mount?.mountPath, dirname(configPath));
  assert.equal(mount?.subPath, undefined, 'a subPath mount never sees ConfigMap updates');
  assert.ok(basename(configPath) in at<object>(configMap, 'data'));
});

test('the instance id comes from the pod name, and the config variables from the Secret', () => {
  assert.equal(envValue('SWITCHYARD_INSTANCE_ID')?.valueFrom?.fieldRef?.fieldPath, 'metadata.name');
  const text = readFileSync(productionPath, 'utf8');
  const variables = new Set([...text.matchAll(/\$\{(\w+)/g)].map((m) => m[1]));
  assert.deepEqual([...variables].sort(), ['REDIS_URL', 'SWITCHYARD_ADMIN_TOKEN']);
  for (const name of variables) {
    const ref = envValue(name)?.valueFrom?.secretKeyRef;
    assert.equal(ref?.name, secret.metadata.name, `${name} comes from the Secret`);
    assert.ok(ref!.key in secretData, `the example Secret has ${ref!.key}`);
  }
  assert.equal(parseRedisUrl(secretData['redis-url']).mode, 'sentinel');
});

test('the pod runs as the image user, non-root, read-only, without capabilities', () => {
  const runtime = parseDockerfile(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8')).at(-1)!;
  const imageUid = Number(instructionsOf(runtime, 'USER').at(-1)!.text.split(':')[0]);
  assert.equal(at(podSpec, 'securityContext.runAsNonRoot'), true);
  assert.equal(at(podSpec, 'securityContext.runAsUser'), imageUid);
  assert.equal(container.securityContext.readOnlyRootFilesystem, true);
  assert.equal(container.securityContext.allowPrivilegeEscalation, false);
  assert.deepEqual(container.securityContext.capabilities?.drop, ['ALL']);
  assert.ok(container.resources.requests?.cpu && container.resources.requests.memory, 'CPU and memory requests');
  assert.ok(container.resources.limits?.memory, 'a memory limit');
});

test('instances spread across zones', () => {
  const spread = at<{ topologyKey: string; labelSelector: { matchLabels: Record<string, string> } }[]>(podSpec, 'topologySpreadConstraints') ?? [];
  const zone = spread.find((c) => c.topologyKey === 'topology.kubernetes.io/zone');
  assert.ok(zone, 'a zone topology spread constraint');
  assert.deepEqual(zone.labelSelector.matchLabels, podLabels);
});

test('names and labels agree: selectors pick the pods, the HPA scales the Deployment, the PDB lets drains progress', () => {
  for (const m of manifests.filter((x) => x.kind !== 'Kustomization')) {
    assert.equal(m.metadata.labels?.['app.kubernetes.io/name'], 'switchyard', `${m.kind} ${m.metadata.name} is labelled`);
  }
  assert.deepEqual(at(deployment, 'spec.selector.matchLabels'), podLabels);
  assert.deepEqual(at(one(manifests, 'PodDisruptionBudget'), 'spec.selector.matchLabels'), podLabels);
  assert.deepEqual(at(one(manifests, 'NetworkPolicy'), 'spec.podSelector.matchLabels'), podLabels);
  const hpa = one(manifests, 'HorizontalPodAutoscaler');
  assert.deepEqual(at(hpa, 'spec.scaleTargetRef'), { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
  assert.equal(at(deployment, 'spec.replicas'), undefined, 'the HPA owns the replica count');
  assert.ok(at<number>(hpa, 'spec.minReplicas') >= 3);
  assert.equal(at(one(manifests, 'PodDisruptionBudget'), 'spec.maxUnavailable'), 1);
});

test('the public Service carries traffic only; the admin port is on a ClusterIP Service', () => {
  const services = manifests.filter((m) => m.kind === 'Service');
  for (const service of services) assert.deepEqual(at(service, 'spec.selector'), podLabels, service.metadata.name);
  const targets = (s: (typeof services)[number]) => at<{ targetPort: string | number }[]>(s, 'spec.ports').map((p) => portNamed(p.targetPort)?.name);
  const publicService = services.find((s) => at(s, 'spec.type') === 'LoadBalancer');
  assert.ok(publicService, 'a LoadBalancer Service');
  assert.deepEqual(targets(publicService), ['http']);
  assert.equal(at(publicService, 'spec.externalTrafficPolicy'), 'Local', 'client addresses reach geo routing');
  const adminService = services.find((s) => targets(s).includes('admin'));
  assert.equal(at(adminService, 'spec.type'), 'ClusterIP');
});
