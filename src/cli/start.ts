/**
 * `switchyard start` (SPEC §8): load and validate the config, start, and on SIGTERM/SIGINT drain:
 * readiness 503 at once, keep serving for `readinessGraceMs` so the load balancer notices, close the
 * traffic listener, let in-flight requests finish within `drainTimeoutMs`, close Redis, pools and
 * watchers, flush the log, exit 0. The admin listener answers until the end. SIGHUP reloads the config.
 * With `workers > 1` the process supervises that many workers instead (src/workers/).
 */
import cluster from 'node:cluster';
import { loadConfigFile } from '../config/load.ts';
import { formatConfigIssue } from '../errors.ts';
import { buildRuntimeConfig } from '../config/runtime.ts';
import { createLogger, flushLogger, type Logger } from '../log/logger.ts';
import { Switchyard } from '../server.ts';

/** Runs the gateway until a signal stops it; returns -1 (the process stays alive) or an exit code. */
export async function runStart(configPath: string): Promise<number> {
  // A worker of a multi-process gateway gets its config from the supervisor, not from the file.
  if (cluster.isWorker) return (await import('../workers/worker.ts')).runWorker();
  const loaded = await loadConfigFile(configPath);
  if (!loaded.ok) {
    for (const issue of loaded.issues) process.stderr.write(`${formatConfigIssue(issue)}\n`);
    process.stderr.write(`switchyard: ${loaded.issues.length} config error(s); not starting\n`);
    return 1;
  }
  const logger = createLogger({ level: loaded.config.log.level });
  exitOnCrash(logger);
  if (loaded.config.workers > 1) return (await import('../workers/run-supervisor.ts')).runSupervisor(loaded, logger);
  const switchyard = await Switchyard.create(buildRuntimeConfig(loaded.config, loaded.file), {
    logger, instanceId: process.env.SWITCHYARD_INSTANCE_ID || undefined,
  });
  // Before start: SIGHUP's default action would kill a process that is still opening its listeners.
  process.on('SIGHUP', () => {
    logger.info({ signal: 'SIGHUP' }, 'reloading the config');
    void switchyard.reload();
  });
  try {
    await switchyard.start();
  } catch (err) {
    logger.fatal({ err: { message: (err as Error).message } }, 'switchyard could not start');
    await switchyard.close(0).catch(() => {});
    await flushLogger(logger);
    return 1;
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.info({ signal }, 'shutdown already in progress');
      return;
    }
    stopping = true;
    watchShutdown(switchyard);
    void drain(switchyard, signal).then(() => exitAfterFlush(logger, 0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return -1;
}

/**
 * The shutdown sequence of SPEC §8, up to (not including) exit. Resolves once every listener,
 * connection pool, store connection and watcher is closed.
 */
export async function drain(switchyard: Switchyard, signal: string): Promise<void> {
  const { readinessGraceMs, drainTimeoutMs } = switchyard.runtime.config.shutdown;
  switchyard.ready = false;
  switchyard.logger.info({ signal, readinessGraceMs, drainTimeoutMs }, 'shutdown: readiness 503, still serving');
  await new Promise((resolve) => setTimeout(resolve, readinessGraceMs));
  switchyard.logger.info({ inflight: switchyard.gateway.inflight }, 'shutdown: traffic listener closed, draining in-flight requests');
  await switchyard.close(drainTimeoutMs);
  switchyard.logger.info('shutdown complete');
}

/** What closing Redis, pools and watchers may take once the traffic drained, before the process gives up on them. */
const cleanupGraceMs = 5000;

/**
 * A shutdown that outlives grace + drain + cleanup is stuck (a store or pool that never closes): the
 * traffic is already drained by then, so the process logs it and exits 1 rather than hang until SIGKILL.
 */
export function watchShutdown(switchyard: Switchyard): void {
  const { readinessGraceMs, drainTimeoutMs } = switchyard.runtime.config.shutdown;
  setTimeout(() => {
    switchyard.logger.error({ cleanupGraceMs }, 'shutdown: cleanup did not finish in time; exiting');
    void exitAfterFlush(switchyard.logger, 1);
  }, readinessGraceMs + drainTimeoutMs + cleanupGraceMs).unref();
}

/** Exits once the buffered log lines are written, so the last lines (shutdown, crash) are not lost. */
export async function exitAfterFlush(logger: Logger, code: number): Promise<never> {
  await flushLogger(logger);
  process.exit(code);
}

/** A crash is logged (and flushed) before the process exits 1. */
export function exitOnCrash(logger: Logger): void {
  process.once('uncaughtException', (err) => {
    logger.fatal({ err: { message: err.message, stack: err.stack } }, 'uncaught exception; exiting');
    void exitAfterFlush(logger, 1);
  });
}
