/**
 * Reads the Kubernetes manifests under config/kubernetes/ (multi-document YAML) for the packaging
 * tests, with small typed views of the objects they check.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from './processes.ts';

/** Any Kubernetes object; the tests reach into it with `at()`. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { name: string; labels?: Record<string, string> };
  readonly [key: string]: unknown;
  /** The file it came from, for messages. */
  readonly file: string;
}

/** The manifests directory. */
export const manifestsDir = join(repoRoot, 'config/kubernetes');

/** Every object of every .yaml file in config/kubernetes/; a YAML error fails with the file named. */
export function readManifests(): Manifest[] {
  const objects: Manifest[] = [];
  for (const file of readdirSync(manifestsDir).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(manifestsDir, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
      const value = doc.toJS() as Manifest | null;
      if (value !== null) objects.push({ ...value, file });
    }
  }
  return objects;
}

/** The one object of a kind (and name, when given); fails when there is not exactly one. */
export function one(manifests: readonly Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` named ${name}` : ''}, found ${found.length}`);
  return found[0];
}

/** The value at a dotted path (`spec.template.spec`), or undefined. */
export function at<T = unknown>(value: unknown, path: string): T {
  let current = value;
  for (const key of path.split('.')) current = (current as Record<string, unknown> | undefined)?.[key];
  return current as T;
}

/** A container as the Deployment declares it (the parts the tests read). */
export interface Container {
  name: string;
  args?: string[];
  ports: { name: string; containerPort: number }[];
  env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } } }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
  volumeMounts: { name: string; mountPath: string; subPath?: string }[];
}

/** An HTTP probe. */
export interface Probe {
  httpGet?: { path: string; port: string | number };
}
