/**
 * Assembles a Switchyard process from a loaded config: geo, fleet state, breakers, the gateway, the
 * traffic and admin listeners, reload and shutdown. Makes no routing decisions itself.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { buildRuntimeConfig, type RuntimeConfig } from './config/runtime.ts';
import type { Config } from './config/schema.ts';
import { loadConfigFile } from './config/load.ts';
import type { ConfigIssue } from './errors.ts';
import { GeoDatabaseWatcher, openGeoDatabase } from './geo/database.ts';
import { GeoResolver } from './geo/lookup.ts';
import type { GeoLookup } from './geo/types.ts';
import { FleetState } from './state/fleet.ts';
import { UpstreamGuard } from './breakers/upstream-guard.ts';
import { Gateway, type RequestObserver } from './proxy/gateway.ts';
import { buildTrafficApp } from './proxy/traffic-app.ts';
import { buildAdminApp } from './admin/app.ts';
import type { Logger } from './log/logger.ts';

export interface SwitchyardOptions {
  readonly logger: Logger;
  /** Stable across restarts when set (pod name); random otherwise. */
  readonly instanceId?: string;
  readonly env?: NodeJS.ProcessEnv;
}

export type ReloadResult = { ok: true; version: string; changed: boolean } | { ok: false; issues: ConfigIssue[] };

/** A running (or ready to run) gateway process. */
export class Switchyard {
  readonly logger: Logger;
  readonly instanceId: string;
  readonly geo: GeoResolver;
  readonly fleet: FleetState;
  readonly guard: UpstreamGuard;
  readonly gateway: Gateway;
  readonly traffic: FastifyInstance<Server>;
  readonly admin: FastifyInstance<Server>;
  /** False once shutdown began: /readyz answers 503 so the load balancer stops sending. */
  ready = false;
  private readonly env: NodeJS.ProcessEnv;
  private geoWatcher: GeoDatabaseWatcher | undefined;

  private constructor(runtime: RuntimeConfig, geo: GeoResolver, options: SwitchyardOptions) {
    this.logger = options.logger;
    this.env = options.env ?? process.env;
    this.instanceId = options.instanceId ?? `${hostname()}-${randomBytes(3).toString('hex')}`;
    this.geo = geo;
    this.guard = new UpstreamGuard(runtime);
    this.fleet = new FleetState({ config: runtime.config, instanceId: this.instanceId, breakers: this.guard.breakers, logger: this.logger });
    const observations = this.fleet.observations;
    this.guard.observeWith({
      begin: (cluster) => observations.cluster(cluster).begin(),
      end: (cluster, latencyMs, failed) => observations.cluster(cluster).end(latencyMs, failed),
      abandon: (cluster) => observations.cluster(cluster).abandon(),
    });
    this.gateway = new Gateway(runtime, {
      geo: geo as GeoLookup,
      snapshot: () => this.fleet.snapshot(),
      breakers: this.guard.breakers,
      signals: this.guard,
      observer: this.observer(),
    });
    this.traffic = buildTrafficApp(runtime.config.limits, this.gateway);
    this.admin = buildAdminApp(this);
  }

  /** Opens the geo database and wires everything; nothing listens yet. */
  static async create(runtime: RuntimeConfig, options: SwitchyardOptions): Promise<Switchyard> {
    const reader = await openGeoDatabase(runtime.config.geo.database);
    const geo = new GeoResolver(reader, runtime.config.geo.cacheSize);
    return new Switchyard(runtime, geo, options);
  }

  /** The runtime config requests start on now. */
  get runtime(): RuntimeConfig {
    return this.gateway.current();
  }

  /** Starts the fleet state loops and both listeners; resolves with the bound ports. */
  async start(): Promise<{ trafficPort: number; adminPort: number }> {
    const { config } = this.runtime;
    await this.fleet.start();
    this.watchGeoDatabase(config.geo.database);
    await this.traffic.listen({ host: config.listen.host, port: config.listen.port });
    await this.admin.listen({ host: config.admin.host, port: config.admin.port });
    this.ready = true;
    const ports = { trafficPort: portOf(this.traffic), adminPort: portOf(this.admin) };
    this.logger.info({ ...ports, version: this.runtime.version, instance: this.instanceId }, 'switchyard started');
    return ports;
  }

  /** Reloads the config file: validated first; an invalid one is rejected and the running one stays. */
  async reload(): Promise<ReloadResult> {
    const result = await loadConfigFile(this.runtime.file, this.env);
    if (!result.ok) {
      this.logger.error({ issues: result.issues }, 'config reload rejected');
      return { ok: false, issues: result.issues };
    }
    return this.applyConfig(result.config, result.file);
  }

  /** Applies an already validated config. */
  applyConfig(config: Config, file: string): ReloadResult {
    const runtime = buildRuntimeConfig(config, file);
    const previous = this.runtime;
    const changed = runtime.version !== previous.version;
    if (changed) {
      this.guard.applyConfig(runtime);
      this.fleet.applyConfig(config);
      this.gateway.apply(runtime);
      if (config.geo.database !== previous.config.geo.database) void this.switchGeoDatabase(config.geo.database);
      this.logger.info({ version: runtime.version }, 'config reloaded');
    }
    return { ok: true, version: runtime.version, changed };
  }

  /** Stops listening and closes everything (the graceful drain sequence lives in the CLI). */
  async close(): Promise<void> {
    this.ready = false;
    await this.traffic.close();
    await this.gateway.close();
    await this.fleet.stop();
    this.guard.close();
    this.geoWatcher?.close();
    await this.admin.close();
  }

  /** Opens a newly configured geo database; a bad one keeps the current (the config itself still applies). */
  private async switchGeoDatabase(path: string): Promise<void> {
    try {
      this.geo.swap(await openGeoDatabase(path));
      this.watchGeoDatabase(path);
      this.logger.info({ path }, 'geo database switched');
    } catch (err) {
      this.logger.error({ err: { message: (err as Error).message } }, 'new geo.database cannot be opened; the previous database stays');
    }
  }

  /** Reloads the geo database when its file changes; a corrupt replacement keeps the old one (SPEC §2.2). */
  private watchGeoDatabase(path: string): void {
    this.geoWatcher?.close();
    this.geoWatcher = new GeoDatabaseWatcher({
      path,
      resolver: this.geo,
      onReload: (info) => this.logger.info({ geo: info }, 'geo database reloaded'),
      onError: (err) => this.logger.error({ err: { message: err.message } }, 'geo database change rejected; the previous database stays'),
    });
  }

  private observer(): RequestObserver {
    return { requestEnded: () => {} };
  }
}

function portOf(app: FastifyInstance<Server>): number {
  return (app.server.address() as AddressInfo).port;
}
