/**
 * The whole Switchyard process for tests: `startSwitchyard` runs a real `Switchyard` in this process
 * (state loops, traffic and admin listeners on free ports, the config in a temp file so reloads
 * work); `spawnSwitchyard` runs `node src/main.ts start -c FILE` as a child process, for signals.
 * Everything is closed or killed in t.after().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { isMap, parseDocument, stringify } from 'yaml';
import type { ConfigInput } from '../../src/config/schema.ts';
import { loadConfigFile } from '../../src/config/load.ts';
import { buildRuntimeConfig } from '../../src/config/runtime.ts';
import { formatConfigIssue } from '../../src/errors.ts';
import { createLogger } from '../../src/log/logger.ts';
import { Switchyard } from '../../src/server.ts';
import { freePort } from '../../src/demo/local-ports.ts';

/** The repository root (this file lives in test/helpers/). */
export const repoRoot = new URL('../../', import.meta.url).pathname;

/** One parsed JSON log line. */
export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

export interface StartOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly instanceId?: string;
  /** Log level of the collected log (default info). */
  readonly level?: string;
}

export interface RunningSwitchyard {
  readonly trafficUrl: string;
  readonly adminUrl: string;
  readonly switchyard: Switchyard;
  readonly configFile: string;
  /** Every log line written so far, parsed. */
  readonly logs: LogLine[];
  /** Replaces the config file (listen/admin addresses forced as at start); reload is up to the test. */
  writeConfig(config: ConfigInput | string): Promise<void>;
  /** The YAML `writeConfig` would write, for tests that lay files out themselves. */
  render(config: ConfigInput | string): string;
}

/** Starts a Switchyard in this process on free 127.0.0.1 ports; closed in t.after(). */
export async function startSwitchyard(t: TestContext, config: ConfigInput | string, options: StartOptions = {}): Promise<RunningSwitchyard> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const configFile = join(dir, 'switchyard.yaml');
  const ports = { listen: 0, admin: 0 };
  const writeConfig = (input: ConfigInput | string) => writeFile(configFile, withAddresses(input, ports));
  await writeConfig(config);
  const loaded = await loadConfigFile(configFile, options.env ?? process.env);
  if (!loaded.ok) throw new Error(`test config is invalid:\n${loaded.issues.map(formatConfigIssue).join('\n')}`);
  const logs: LogLine[] = [];
  const logger = createLogger({ level: options.level ?? 'info', stream: { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) } });
  const switchyard = await Switchyard.create(buildRuntimeConfig(loaded.config, loaded.file), {
    logger, env: options.env, instanceId: options.instanceId ?? 'test',
  });
  t.after(() => switchyard.close(1000));
  const { trafficPort, adminPort } = await switchyard.start();
  return {
    trafficUrl: `http://127.0.0.1:${trafficPort}`, adminUrl: `http://127.0.0.1:${adminPort}`,
    switchyard, configFile, logs, writeConfig, render: (input) => withAddresses(input, ports),
  };
}

export interface SpawnedSwitchyard {
  readonly child: ChildProcess;
  readonly trafficUrl: string;
  readonly adminUrl: string;
  readonly configFile: string;
  stdout(): string;
  stderr(): string;
  /** The JSON lines of stdout so far. */
  logLines(): LogLine[];
  /** Resolves with the exit code (or signal) once the process ended. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  writeConfig(config: ConfigInput | string): Promise<void>;
}

const readyTimeoutMs = 15_000;

export interface SpawnOptions {
  /** In its own process group, so a test can signal the group as a terminal's Ctrl-C does. */
  readonly detached?: boolean;
  /** Node flags before `src/main.ts` (`--import` a probe, say). */
  readonly nodeArgs?: readonly string[];
}

/** Runs `node src/main.ts start -c FILE` on free ports chosen up front; resolves once /readyz answers 200. */
export async function spawnSwitchyard(t: TestContext, config: ConfigInput | string, env: NodeJS.ProcessEnv = {},
  options: SpawnOptions = {}): Promise<SpawnedSwitchyard> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-proc-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const configFile = join(dir, 'switchyard.yaml');
  const ports = { listen: await freePort(), admin: await freePort() };
  const writeConfig = (input: ConfigInput | string) => writeFile(configFile, withAddresses(input, ports));
  await writeConfig(config);
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.SWITCHYARD_CONFIG;
  const child = spawn(join(repoRoot, 'node_modules/.bin/node'), [...options.nodeArgs ?? [], 'src/main.ts', 'start', '-c', configFile], {
    cwd: repoRoot, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached === true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const adminUrl = `http://127.0.0.1:${ports.admin}`;
  await waitFor('the spawned gateway to be ready', async () => {
    if (child.exitCode !== null) throw new Error(`switchyard exited with ${child.exitCode}:\n${stderr}\n${stdout}`);
    return (await fetch(`${adminUrl}/readyz`).then((r) => r.status, () => 0)) === 200;
  }, readyTimeoutMs);
  return {
    child, trafficUrl: `http://127.0.0.1:${ports.listen}`, adminUrl, configFile, exited, writeConfig,
    stdout: () => stdout, stderr: () => stderr,
    logLines: () => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine),
  };
}

/** Polls `condition` every 25 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The config as YAML with both listeners on 127.0.0.1 and the given ports (0: any free port); broken YAML as it is. */
function withAddresses(config: ConfigInput | string, ports: { listen: number; admin: number }): string {
  const doc = parseDocument(typeof config === 'string' ? config : stringify(config));
  // Broken YAML is written as it is: tests use it to check that a reload refuses it.
  if (doc.errors.length > 0 || !isMap(doc.contents)) return config as string;
  doc.setIn(['listen', 'host'], '127.0.0.1');
  doc.setIn(['listen', 'port'], ports.listen);
  doc.setIn(['admin', 'host'], '127.0.0.1');
  doc.setIn(['admin', 'port'], ports.admin);
  return doc.toString();
}


/** The admin token of `gatewayConfig`. */
export const adminToken = 'test-admin-token';

/** Upstream URLs of the three clusters `gatewayConfig` defines. */
export interface ClusterUrls {
  readonly east: string;
  readonly south: string;
  readonly standby: string;
}

/**
 * A small production-shaped config: trade-east (primary, the default region, so local clients land
 * there), trade-south (Guangdong clients land there), promo-standby; a pinned webhook route and a
 * storefront route with a standby dial. Fast state cycles; file watching off unless a test turns it on.
 */
export function gatewayConfig(urls: ClusterUrls, overrides: Partial<ConfigInput> = {}): ConfigInput {
  return {
    admin: { token: adminToken },
    geo: { defaultRegion: 'east-china' },
    state: { publishIntervalMs: 200, staleAfterMs: 2000 },
    regions: {
      'east-china': { location: [31.23, 121.47], subdivisions: ['CN-SH', 'CN-ZJ'] },
      'south-china': { location: [23.13, 113.26], subdivisions: ['CN-GD'] },
    },
    clusters: {
      'trade-east': { region: 'east-china', role: 'primary', endpoints: [urls.east] },
      'trade-south': { region: 'south-china', role: 'trade', endpoints: [urls.south] },
      'promo-standby': { region: 'east-china', role: 'standby', endpoints: [urls.standby] },
    },
    routes: [
      { name: 'payment-webhooks', match: { pathPrefix: '/webhooks/payment/', methods: ['POST'] }, pin: 'trade-east' },
      { name: 'storefront', match: { pathPrefix: '/' }, clusters: ['trade-east', 'trade-south'], standby: { cluster: 'promo-standby', dial: 0 } },
    ],
    // 1 km per ms: trade-south is ~1200 ms away from local clients, so latency noise never moves them.
    scoring: { kmPerMs: 1 },
    shutdown: { readinessGraceMs: 0, drainTimeoutMs: 5000 },
    reload: { watch: false },
    ...overrides,
  };
}

export { freePort };
