/**
 * Assembles a Switchyard process from a loaded config: geo, fleet state, breakers, the gateway, the
 * traffic and admin listeners, metrics, the access log, reload and shutdown. Makes no routing decisions.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { buildRuntimeConfig, type RuntimeConfig } from './config/runtime.ts';
import type { Config } from './config/schema.ts';
import { loadConfigFile } from './config/load.ts';
import { ConfigFileWatcher } from './config/watch.ts';
import type { ConfigIssue } from './errors.ts';
import { GeoDatabaseWatcher, openGeoDatabase } from './geo/database.ts';
import { GeoResolver } from './geo/lookup.ts';
import { FleetState } from './state/fleet.ts';
import type { ClusterBreakers } from './breakers/cluster-breakers.ts';
import { UpstreamGuard } from './breakers/upstream-guard.ts';
import { Gateway } from './proxy/gateway.ts';
import { PinnedWebhooks } from './spool/pinned-webhooks.ts';
import { RefusalReporter } from './proxy/refusals.ts';
import { buildTrafficApp } from './proxy/traffic-app.ts';
import { buildAdminApp } from './admin/app.ts';
import { AccessLog } from './log/access.ts';
import type { Logger } from './log/logger.ts';
import { SwitchyardMetrics } from './metrics/metrics.ts';
import { observeRequests } from './metrics/observers.ts';
import { TrafficSeries } from './metrics/traffic-series.ts';
import { closeServerGracefully, restartOnlyChanges } from './server-lifecycle.ts';
import { restoreFastStringMethods } from './fast-string-methods.ts';

export interface SwitchyardOptions {
  readonly logger: Logger;
  /** Stable across restarts when set (pod name); random otherwise. */
  readonly instanceId?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * How `start()` opens the process to the world. A single process takes the defaults; a worker of a
 * multi-process gateway (src/workers/) leaves the admin listener and the config file to its supervisor.
 */
export interface ListenOptions {
  /** Open the admin listener (default true). */
  readonly admin?: boolean;
  /**
   * Bind the traffic port with SO_REUSEPORT, exclusively to this process (not through cluster's
   * primary, which would then accept every connection and hand it over), so sibling workers bind it
   * too and the kernel spreads connections over them. Node implies `exclusive` with `reusePort`;
   * both are passed so the intent does not hang on that.
   */
  readonly sharedTrafficPort?: boolean;
  /** Watch the config file when `reload.watch` (default true). */
  readonly watchConfig?: boolean;
}

export type ReloadResult = { ok: true; version: string; changed: boolean } | { ok: false; issues: ConfigIssue[] };

/** How long the admin listener's last requests get once everything else has stopped. */
const adminCloseMs = 1000;

/** A running (or ready to run) gateway process. */
export class Switchyard {
  readonly logger: Logger;
  readonly instanceId: string;
  readonly geo: GeoResolver;
  readonly fleet: FleetState;
  readonly guard: UpstreamGuard;
  readonly metrics: SwitchyardMetrics;
  /** Requests per cluster over the last minutes, for the status page. */
  readonly trafficSeries = new TrafficSeries();
  /** Pinned webhooks whose cluster is unavailable: spooled (Redis, `spool.enabled`) or refused. */
  readonly webhooks: PinnedWebhooks;
  /** One line per request; flushed last on close. */
  readonly accessLog: AccessLog;
  readonly gateway: Gateway;
  readonly traffic: FastifyInstance<Server>;
  readonly admin: FastifyInstance<Server>;
  /** False until started and once shutdown began: /readyz answers 503 so the load balancer stops sending. */
  ready = false;
  private readonly env: NodeJS.ProcessEnv;
  private geoWatcher: GeoDatabaseWatcher | undefined;
  private configWatcher: ConfigFileWatcher | undefined;
  /** Reloads run one at a time (SIGHUP, API and file watch can coincide). */
  private reloads: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;
  /** False in workers: their supervisor watches the file and sends them the configs it validated. */
  private watchesConfig = true;

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
    this.metrics = new SwitchyardMetrics(runtime, {
      runtime: () => this.runtime, snapshot: () => this.fleet.snapshot(), breakers: this.guard.breakers,
      inflight: (cluster) => observations.summary(cluster)?.inflight ?? 0, geoStats: geo.stats, nowMs: Date.now,
      spool: () => this.webhooks.status(),
    });
    this.webhooks = new PinnedWebhooks({
      // Read while the gateway is still being built: the initial runtime until it exists.
      runtime: () => (this.gateway as Gateway | undefined)?.current() ?? runtime, instanceId: this.instanceId, logger: this.logger,
      snapshot: () => this.fleet.snapshot(), breakers: this.guard.breakers,
      onPinnedUnavailable: (route) => this.metrics.countPinnedUnavailable(route), onSpooled: () => this.metrics.countSpooled(),
    });
    this.accessLog = new AccessLog(this.logger, () => this.runtime.config.log.access);
    this.gateway = new Gateway(runtime, {
      geo, snapshot: () => this.fleet.snapshot(), breakers: this.guard.breakers, signals: this.guard,
      pinnedUnavailable: this.webhooks.handle,
      observer: observeRequests({
        metrics: this.metrics, trafficSeries: this.trafficSeries, logger: this.logger,
        accessLog: this.accessLog,
      }),
    });
    const refusals = new RefusalReporter(this.logger, (reason) => this.metrics.countRefused(reason));
    this.traffic = buildTrafficApp(runtime.config.limits, this.gateway, refusals);
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

  /** This instance's circuit breakers (status and explain read them). */
  get breakers(): ClusterBreakers {
    return this.guard.breakers;
  }

  /**
   * Starts the fleet state loops, the watchers and the listeners; resolves with the bound ports
   * (adminPort 0 when the admin listener stays closed).
   */
  async start(options: ListenOptions = {}): Promise<{ trafficPort: number; adminPort: number }> {
    const { config } = this.runtime;
    this.watchesConfig = options.watchConfig ?? true;
    await this.fleet.start();
    await this.webhooks.start();
    this.watchGeoDatabase(config.geo.database);
    const shared = options.sharedTrafficPort === true ? { exclusive: true, reusePort: true } : {};
    await this.traffic.listen({ host: config.listen.host, port: config.listen.port, ...shared });
    if (options.admin ?? true) await this.admin.listen({ host: config.admin.host, port: config.admin.port });
    await this.syncConfigWatcher(config);
    // Every module is loaded by now, ioredis included (see the function for why this matters).
    restoreFastStringMethods();
    this.ready = true;
    const ports = { trafficPort: portOf(this.traffic), adminPort: this.admin.server.listening ? portOf(this.admin) : 0 };
    this.logger.info({ ...ports, version: this.runtime.version, instance: this.instanceId }, 'switchyard started');
    return ports;
  }

  /**
   * Reloads the config file (SPEC §3): validated first; an invalid one is rejected with its issues
   * (logged and counted) and the running config stays. Reloads never overlap.
   */
  reload(): Promise<ReloadResult> {
    const next = this.reloads.then(() => this.reloadNow());
    this.reloads = next.catch(() => undefined);
    return next;
  }

  /** Applies an already validated config; requests in flight keep the runtime they started with. */
  applyConfig(config: Config, file: string): ReloadResult {
    const runtime = buildRuntimeConfig(config, file);
    const previous = this.runtime;
    const changed = runtime.version !== previous.version;
    if (!changed) return { ok: true, version: runtime.version, changed };
    const restartOnly = restartOnlyChanges(previous.config, config);
    if (restartOnly.length > 0) this.logger.warn({ keys: restartOnly }, 'config keys that only take effect on restart changed; the running values stay');
    this.guard.applyConfig(runtime);
    this.fleet.applyConfig(config);
    this.gateway.apply(runtime);
    this.webhooks.apply();
    this.metrics.apply(runtime);
    this.trafficSeries.retain(runtime.clusters.map((c) => c.name));
    if (config.log.level !== previous.config.log.level) this.logger.level = config.log.level;
    if (config.geo.database !== previous.config.geo.database) void this.switchGeoDatabase(config.geo.database);
    if (this.configWatcher !== undefined || (config.reload.watch && this.watchesConfig)) void this.syncConfigWatcher(config, previous.config);
    this.logger.info({ version: runtime.version, previous: previous.version }, 'config reloaded');
    return { ok: true, version: runtime.version, changed };
  }

  /**
   * Stops everything: the traffic listener first (in-flight requests get `drainTimeoutMs`, then their
   * connections are cut), then the spool's replayers, pools, fleet state and watchers; the admin
   * listener last. Idempotent.
   */
  close(drainTimeoutMs = this.runtime.config.shutdown.drainTimeoutMs): Promise<void> {
    this.closing ??= this.closeNow(drainTimeoutMs);
    return this.closing;
  }

  private async closeNow(drainTimeoutMs: number): Promise<void> {
    this.ready = false;
    this.configWatcher?.close();
    const graceful = await closeServerGracefully(this.traffic.server, drainTimeoutMs);
    if (!graceful) this.logger.warn({ inflight: this.gateway.inflight, drainTimeoutMs }, 'shutdown: drain timeout, remaining connections cut');
    await this.traffic.close();
    await this.webhooks.close();
    await this.gateway.close();
    await this.fleet.stop();
    this.guard.close();
    this.geoWatcher?.close();
    await closeServerGracefully(this.admin.server, adminCloseMs);
    await this.admin.close();
    this.accessLog.flush();
  }

  private async reloadNow(): Promise<ReloadResult> {
    const result = await loadConfigFile(this.runtime.file, this.env);
    if (!result.ok) {
      this.metrics.reloaded('failure');
      this.logger.error({ issues: result.issues }, 'config reload rejected; the running config stays');
      return { ok: false, issues: result.issues };
    }
    const applied = this.applyConfig(result.config, result.file);
    this.metrics.reloaded('success');
    return applied;
  }

  /** Starts, restarts or stops the config file watcher to match `reload.watch` and `reload.debounceMs`. */
  private async syncConfigWatcher(config: Config, previous?: Config): Promise<void> {
    if (this.closing !== undefined) return;
    const same = previous !== undefined && this.configWatcher !== undefined && config.reload.watch
      && config.reload.debounceMs === previous.reload.debounceMs;
    if (same) return;
    this.configWatcher?.close();
    this.configWatcher = undefined;
    if (!config.reload.watch || !this.watchesConfig) return;
    const watcher = new ConfigFileWatcher({
      file: this.runtime.file, debounceMs: config.reload.debounceMs,
      onChange: () => {
        this.logger.info({ file: this.runtime.file }, 'config file changed: reloading');
        void this.reload();
      },
    });
    this.configWatcher = watcher;
    await watcher.start();
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
}

function portOf(app: FastifyInstance<Server>): number {
  return (app.server.address() as AddressInfo).port;
}
