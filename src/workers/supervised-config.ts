/**
 * The config of a multi-process gateway, owned by the supervisor (SPEC §3 reload): SIGHUP, the file
 * watch and `POST /api/reload` load and validate the file here, once; a valid config is pushed to every
 * worker, which applies it like a single process would. So every worker runs the same version (none
 * reads a file that changed under it), a reload is counted once, and a worker restarted later starts
 * on the config in force, not on whatever the file says by then.
 */
import { loadConfigFile } from '../config/load.ts';
import { buildRuntimeConfig } from '../config/runtime.ts';
import type { Config } from '../config/schema.ts';
import { ConfigFileWatcher } from '../config/watch.ts';
import type { Logger } from '../log/logger.ts';
import type { ReloadOutcome } from '../metrics/metrics.ts';
import type { ReloadResult } from '../server.ts';
import { restartOnlyChanges } from '../server-lifecycle.ts';

/** The config in force: what workers run and start on. */
export interface ConfigInForce {
  readonly config: Config;
  readonly file: string;
  readonly version: string;
}

export interface SupervisedConfigOptions {
  readonly config: Config;
  readonly file: string;
  readonly logger: Logger;
  readonly env?: NodeJS.ProcessEnv;
  /** Sends a validated config to every serving worker; rejects when one did not apply it. */
  push(inForce: ConfigInForce): Promise<void>;
  /** Counts a reload attempt. */
  reloaded(outcome: ReloadOutcome): void;
}

/** The supervisor's config: current, reloadable, watched. */
export class SupervisedConfig {
  private readonly options: SupervisedConfigOptions;
  private inForce: ConfigInForce;
  private watcher: ConfigFileWatcher | undefined;
  private reloads: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(options: SupervisedConfigOptions) {
    this.options = options;
    this.inForce = { config: options.config, file: options.file, version: versionOf(options.config, options.file) };
  }

  /** The config workers run now. */
  get current(): ConfigInForce {
    return this.inForce;
  }

  /** Starts watching the file when `reload.watch` says so. */
  start(): Promise<void> {
    return this.syncWatcher(this.inForce.config);
  }

  /** Reloads the file: validated, then pushed to every worker. Reloads never overlap. */
  reload(): Promise<ReloadResult> {
    const next = this.reloads.then(() => this.reloadNow());
    this.reloads = next.catch(() => undefined);
    return next;
  }

  /** Stops watching. */
  close(): void {
    this.closed = true;
    this.watcher?.close();
  }

  private async reloadNow(): Promise<ReloadResult> {
    const { logger } = this.options;
    const result = await loadConfigFile(this.inForce.file, this.options.env ?? process.env);
    if (!result.ok) {
      this.options.reloaded('failure');
      logger.error({ issues: result.issues }, 'config reload rejected; the running config stays');
      return { ok: false, issues: result.issues };
    }
    const previous = this.inForce;
    const next: ConfigInForce = { config: result.config, file: result.file, version: versionOf(result.config, result.file) };
    if (next.version === previous.version) {
      this.options.reloaded('success');
      return { ok: true, version: next.version, changed: false };
    }
    const restartOnly = restartOnlyChanges(previous.config, next.config);
    if (restartOnly.length > 0) logger.warn({ keys: restartOnly }, 'config keys that only take effect on restart changed; the running values stay');
    // In force before it is pushed: a worker restarting meanwhile starts on it.
    this.inForce = next;
    if (next.config.log.level !== previous.config.log.level) logger.level = next.config.log.level;
    await this.syncWatcher(next.config, previous.config);
    try {
      await this.options.push(next);
    } catch (err) {
      this.options.reloaded('failure');
      logger.error({ err: { message: (err as Error).message }, version: next.version }, 'config reload: a worker did not apply the new config');
      throw err;
    }
    this.options.reloaded('success');
    logger.info({ version: next.version, previous: previous.version }, 'config reloaded');
    return { ok: true, version: next.version, changed: true };
  }

  /** Starts, restarts or stops the file watcher to match `reload.watch` and `reload.debounceMs`. */
  private async syncWatcher(config: Config, previous?: Config): Promise<void> {
    if (this.closed) return;
    const same = previous !== undefined && this.watcher !== undefined && config.reload.watch
      && config.reload.debounceMs === previous.reload.debounceMs;
    if (same) return;
    this.watcher?.close();
    this.watcher = undefined;
    if (!config.reload.watch) return;
    const watcher = new ConfigFileWatcher({
      file: this.inForce.file, debounceMs: config.reload.debounceMs,
      onChange: () => {
        this.options.logger.info({ file: this.inForce.file }, 'config file changed: reloading');
        this.reload().catch(() => {});
      },
    });
    this.watcher = watcher;
    await watcher.start();
  }
}

function versionOf(config: Config, file: string): string {
  return buildRuntimeConfig(config, file).version;
}
